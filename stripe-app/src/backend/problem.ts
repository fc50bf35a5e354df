/** RFC 9457 problem details, as the hooklane back-end sends them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
}

export function asProblem(body: unknown): Problem | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { type, title, status, detail, code } = body as Record<string, unknown>;
  return {
    type: typeof type === 'string' ? type : undefined,
    title: typeof title === 'string' ? title : undefined,
    status: typeof status === 'number' ? status : undefined,
    detail: typeof detail === 'string' ? detail : undefined,
    code: typeof code === 'string' ? code : undefined,
  };
}

/** The most specific human sentence a problem carries. */
export function problemText(problem: Problem | undefined): string | undefined {
  return problem?.detail ?? problem?.title;
}
