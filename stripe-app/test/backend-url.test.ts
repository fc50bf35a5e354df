import { getMockContextProps } from '@stripe/ui-extension-sdk/testing';
import { resolveBackendUrl } from '../src/backend/backend-url';

function environment(mode: 'live' | 'test', constants?: Record<string, unknown>) {
  return getMockContextProps({ environment: { mode, constants: constants as never } }).environment;
}

describe('resolveBackendUrl', () => {
  it('when the manifest sets one URL, uses it in every mode without a trailing slash', () => {
    expect(resolveBackendUrl(environment('live', { HOOKLANE_BACKEND_URL: 'https://hooklane.example.com/' })))
      .toEqual({ ok: true, url: 'https://hooklane.example.com' });
    expect(resolveBackendUrl(environment('test', { HOOKLANE_BACKEND_URL: 'https://hooklane.example.com/' })))
      .toEqual({ ok: true, url: 'https://hooklane.example.com' });
  });

  it('when the manifest sets a URL per Dashboard mode, picks the one for the current mode', () => {
    const constants = { HOOKLANE_BACKEND_URL: { live: 'https://api.hooklane.example', test: 'https://staging.hooklane.example/app' } };
    expect(resolveBackendUrl(environment('live', constants))).toEqual({ ok: true, url: 'https://api.hooklane.example' });
    expect(resolveBackendUrl(environment('test', constants))).toEqual({ ok: true, url: 'https://staging.hooklane.example/app' });
  });

  it('when the constant is missing for this mode, says which constant and mode', () => {
    const result = resolveBackendUrl(environment('live', { HOOKLANE_BACKEND_URL: { test: 'https://x.example' } }));
    expect(result).toEqual({ ok: false, message: expect.stringContaining('HOOKLANE_BACKEND_URL constant for live mode') });
    expect(resolveBackendUrl(environment('test'))).toMatchObject({ ok: false });
  });

  it('accepts plain http only for a back-end on the local machine', () => {
    expect(resolveBackendUrl(environment('test', { HOOKLANE_BACKEND_URL: 'http://localhost:3000' })))
      .toEqual({ ok: true, url: 'http://localhost:3000' });
    expect(resolveBackendUrl(environment('test', { HOOKLANE_BACKEND_URL: 'http://hooklane.example.com' })))
      .toEqual({ ok: false, message: expect.stringContaining('must use https') });
    expect(resolveBackendUrl(environment('test', { HOOKLANE_BACKEND_URL: 'not a url' })))
      .toEqual({ ok: false, message: expect.stringContaining('is not a URL') });
  });
});
