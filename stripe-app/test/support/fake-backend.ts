/** A stand-in for the hooklane back-end behind global fetch, answering like the real one. */

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
}

type Answer = Response | Error;
type Route = (request: RecordedRequest) => Answer;

export interface FakeBackend {
  requests: RecordedRequest[];
  /** Replaces how one route answers from now on: `'GET /api/oauth/userinfo'`. */
  on(route: string, answer: Route): void;
  requestsTo(route: string): RecordedRequest[];
}

export const BACKEND_URL = 'https://hooklane.test';

export function installFakeBackend(routes: Record<string, Route> = {}): FakeBackend {
  const table = new Map(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  const keyOf = (r: RecordedRequest) => `${r.method} ${r.url.pathname}`;
  global.fetch = jest.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = { method: init?.method ?? 'GET', url: new URL(String(input)), headers: new Headers(init?.headers) };
    requests.push(request);
    const route = table.get(keyOf(request));
    const answer = route ? route(request) : problem(404, 'Not Found', `No route ${keyOf(request)}`, 'NOT_FOUND');
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return {
    requests,
    on: (route, answer) => table.set(route, answer),
    requestsTo: (route) => requests.filter((r) => keyOf(r) === route),
  };
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

export function problem(status: number, title: string, detail: string, code: string): Response {
  const body = { type: 'about:blank', title, status, detail, code };
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/problem+json' } });
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/** What fetch throws when the host is down, CORS refuses or the app's CSP blocks the URL. */
export function networkError(): Error {
  return new TypeError('Failed to fetch');
}

export const demoUser = { sub: 'demo-user', email: 'demo@example.com', email_verified: true, name: 'Demo User' };

export const notConnected = () => problem(401, 'No account is connected', 'No account is connected.', 'OAUTH_NOT_CONNECTED');
