import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  total: number;
}

export interface LoadRequest {
  method?: 'GET' | 'POST';
  path: string;
  /** Called for each request; returns the body and headers of that request. */
  next?: () => { body: string; headers: Record<string, string> };
}

/** One autocannon run against `url`; `overallRate` makes it a steady-rate (open-ish) load instead of closed. */
export async function runLoad(
  url: string,
  request: LoadRequest,
  options: { connections: number; durationS?: number; amount?: number; overallRate?: number },
): Promise<LoadResult> {
  const next = request.next;
  const result = await autocannon({
    url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 10 }),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    timeout: 10,
    requests: [
      {
        method: request.method ?? 'GET',
        path: request.path,
        ...(next
          ? {
              setupRequest: (req: autocannon.Request) => {
                const { body, headers } = next();
                return { ...req, body, headers: { ...req.headers, ...headers } };
              },
            }
          : {}),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}
