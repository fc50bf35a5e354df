import { adviceFor, ApiError, createApiClient, headlineFor, toApiError, withQuery } from '../../../src/frontend/logic/api-client';

type Call = { url: string; init: RequestInit };

function fakeFetch(answer: () => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const problem = (status: number, body: object, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json', ...headers } });

describe('console API client', () => {
  it('sends the token as a Bearer header to a relative /api path and returns the JSON', async () => {
    const { fn, calls } = fakeFetch(() => Response.json({ tokenId: 'abcd1234' }));
    const client = createApiClient({ fetch: fn, getToken: () => 'secret-token-0123456789' });
    await expect(client.get('/api/admin/session')).resolves.toEqual({ tokenId: 'abcd1234' });
    expect(calls[0]!.url).toBe('/api/admin/session');
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer secret-token-0123456789');
    expect(calls[0]!.init.credentials).toBe('omit');
  });

  it('refuses absolute URLs: the console may only call its own /api', async () => {
    const { fn, calls } = fakeFetch(() => Response.json({}));
    const client = createApiClient({ fetch: fn, getToken: () => 't' });
    await expect(client.get('https://evil.example/api/x')).rejects.toThrow(/relative \/api\//);
    expect(calls).toHaveLength(0);
  });

  it('maps a 401 problem to an unauthorized ApiError and tells the app to ask for the token again', async () => {
    const { fn } = fakeFetch(() => problem(401, { code: 'UNAUTHORIZED', detail: 'The bearer token is not valid.' }));
    const onUnauthorized = jest.fn();
    const client = createApiClient({ fetch: fn, getToken: () => 'wrong', onUnauthorized });
    const error = await client.get('/api/admin/overview').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401, code: 'UNAUTHORIZED', message: 'The bearer token is not valid.' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it.each([
    [429, 'rate-limited'],
    [503, 'unavailable'],
    [404, 'not-found'],
    [409, 'conflict'],
    [400, 'invalid'],
    [500, 'server'],
  ])('maps status %p to kind %p', async (status, kind) => {
    const error = await toApiError(problem(status, { code: 'X', detail: 'd' }));
    expect(error.kind).toBe(kind);
  });

  it('reads Retry-After so the advice can say how long to wait', async () => {
    const error = await toApiError(problem(429, { code: 'RATE_LIMITED' }, { 'retry-after': '17' }));
    expect(error.retryAfterSeconds).toBe(17);
    expect(adviceFor(error)).toContain('wait 17 s');
  });

  it('keeps the status when a proxy answers with HTML instead of a problem document', async () => {
    const error = await toApiError(new Response('<html>Bad gateway</html>', { status: 502 }));
    expect(error).toMatchObject({ kind: 'server', status: 502, code: 'HTTP_502', message: 'The server answered 502.' });
  });

  it('turns a failed fetch into a network error with advice', async () => {
    const { fn } = fakeFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const client = createApiClient({ fetch: fn, getToken: () => 't' });
    const error = (await client.get('/api/admin/overview').catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('network');
    expect(adviceFor(error)).toMatch(/connection/);
  });

  it('gives the request id to quote when the server fails', async () => {
    const error = await toApiError(problem(500, { code: 'INTERNAL', requestId: 'req-42' }));
    expect(adviceFor(error)).toContain('req-42');
  });

  it('headlines an outage plainly, and keeps the server detail where it is specific', async () => {
    const down = await toApiError(problem(503, { code: 'REDIS_UNAVAILABLE', detail: 'Redis did not acknowledge the write; nothing was stored.' }));
    expect(headlineFor(down)).toBe('The server cannot reach Redis right now.');
    const missing = await toApiError(problem(404, { code: 'JOB_NOT_FOUND', detail: 'No job 7 in queue jobs.' }));
    expect(headlineFor(missing)).toBe('No job 7 in queue jobs.');
  });

  it('builds query strings from filled values only', () => {
    expect(withQuery('/api/events', { type: 'charge.failed', account: '', objectId: null, limit: 25 })).toBe(
      '/api/events?type=charge.failed&limit=25',
    );
    expect(withQuery('/api/events', {})).toBe('/api/events');
  });

  it('sends JSON bodies with POST and uses DELETE for removals', async () => {
    const { fn, calls } = fakeFetch(() => Response.json({ ok: true }));
    const client = createApiClient({ fetch: fn, getToken: () => 't' });
    await client.post('/api/admin/queues/jobs/retry-failed');
    await client.del('/api/admin/queues/jobs/jobs/1');
    expect(calls[0]!.init).toMatchObject({ method: 'POST', body: '{}' });
    expect(calls[1]!.init.method).toBe('DELETE');
  });
});
