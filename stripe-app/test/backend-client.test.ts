import { callBackend, signInUrl, type BackendClient } from '../src/backend/backend-client';
import { isUserInfo } from '../src/backend/api-types';
import { BACKEND_URL, demoUser, installFakeBackend, json, networkError, noContent, problem } from './support/fake-backend';

function client(sign: () => Promise<string> = async () => 't=1,v1=abc'): BackendClient {
  return { baseUrl: BACKEND_URL, userId: 'usr_1', accountId: 'acct_1', sign };
}

describe('callBackend', () => {
  it('sends the Dashboard signature, both Stripe ids and the JSON content type', async () => {
    const backend = installFakeBackend({ 'GET /api/oauth/userinfo': () => json(200, demoUser) });

    const result = await callBackend(client(), '/api/oauth/userinfo', { read: isUserInfo });

    expect(result).toEqual({ ok: true, status: 200, data: demoUser });
    const [request] = backend.requests;
    expect(request?.url.href).toBe(`${BACKEND_URL}/api/oauth/userinfo`);
    expect(Object.fromEntries(request?.headers ?? [])).toEqual({
      'stripe-signature': 't=1,v1=abc',
      'stripe-user-id': 'usr_1',
      'stripe-account-id': 'acct_1',
      'content-type': 'application/json',
    });
  });

  it('when the back-end answers 204, succeeds without a body', async () => {
    installFakeBackend({ 'GET /api/oauth/logout': () => noContent() });
    expect(await callBackend(client(), '/api/oauth/logout')).toEqual({ ok: true, status: 204, data: undefined });
  });

  it('when no account is connected (401), reports signed-out', async () => {
    installFakeBackend({ 'GET /api/oauth/userinfo': () => problem(401, 'Unauthorized', 'No account is connected.', 'OAUTH_NOT_CONNECTED') });
    const result = await callBackend(client(), '/api/oauth/userinfo', { read: isUserInfo });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'signed-out', status: 401, problem: { code: 'OAUTH_NOT_CONNECTED' } } });
  });

  it('when the signature is refused (400), reports rejected and names the secret to check', async () => {
    installFakeBackend({ 'GET /api/oauth/userinfo': () => problem(400, 'Bad Request', 'Could not verify signature', 'STRIPE_APP_BAD_SIGNATURE') });
    const result = await callBackend(client(), '/api/oauth/userinfo', { read: isUserInfo });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'rejected', status: 400 } });
    expect(!result.ok && result.failure.message).toMatch(/Could not verify signature.*STRIPE_APP_SECRET/);
  });

  it('when a 400 is about the request itself, not the signature, passes its detail on', async () => {
    installFakeBackend({
      'GET /api/app/payments/ch_1/status': () => problem(400, 'Validation failed', 'paymentIntentId must be a PaymentIntent id (pi_...).', 'VALIDATION_FAILED'),
    });
    const result = await callBackend(client(), '/api/app/payments/ch_1/status');
    expect(result).toMatchObject({ ok: false, failure: { kind: 'unexpected', status: 400 } });
    expect(!result.ok && result.failure.message).toBe('hooklane answered 400: paymentIntentId must be a PaymentIntent id (pi_...).');
  });

  it('when the back-end fails (5xx), reports server trouble with its detail', async () => {
    installFakeBackend({ 'GET /api/oauth/userinfo': () => problem(502, 'Bad Gateway', 'Cannot contact authentication server', 'OAUTH_PROVIDER_UNREACHABLE') });
    const result = await callBackend(client(), '/api/oauth/userinfo', { read: isUserInfo });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'server', status: 502 } });
    expect(!result.ok && result.failure.message).toContain('502: Cannot contact authentication server');
  });

  it('when fetch itself fails, reports the back-end unreachable and points at the CSP', async () => {
    installFakeBackend({ 'GET /api/oauth/userinfo': () => networkError() });
    const result = await callBackend(client(), '/api/oauth/userinfo', { read: isUserInfo });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'unreachable' } });
    expect(!result.ok && result.failure.message).toMatch(/Cannot reach hooklane at https:\/\/hooklane\.test.*content security policy/);
  });

  it('when the Dashboard cannot sign, sends nothing', async () => {
    const backend = installFakeBackend();
    const result = await callBackend(client(async () => { throw new Error('no host'); }), '/api/oauth/userinfo');
    expect(result).toMatchObject({ ok: false, failure: { kind: 'unexpected', message: expect.stringContaining('no host') } });
    expect(backend.requests).toHaveLength(0);
  });

  it('when a 200 body is not what the route promises, reports it instead of passing it on', async () => {
    installFakeBackend({ 'GET /api/oauth/userinfo': () => json(200, { hello: 'world' }) });
    const result = await callBackend(client(), '/api/oauth/userinfo', { read: isUserInfo });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'unexpected', status: 200 } });
  });
});

describe('signInUrl', () => {
  it('points at the login route with the signed Dashboard identity as JSON state', async () => {
    const result = await signInUrl(client());
    if (!result.ok) throw new Error(result.failure.message);
    const url = new URL(result.data);
    expect(`${url.origin}${url.pathname}`).toBe(`${BACKEND_URL}/api/oauth/login`);
    expect(JSON.parse(url.searchParams.get('state') ?? '')).toEqual({ userId: 'usr_1', accountId: 'acct_1', signature: 't=1,v1=abc' });
  });
});
