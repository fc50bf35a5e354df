import { fetchStripeSignature } from '@stripe/ui-extension-sdk/utils';

/**
 * The Dashboard signs each request on demand; the stub hands out a new signature on every
 * call so tests can tell that a request carried a fresh one. Test files mock the module with
 * `jest.mock('@stripe/ui-extension-sdk/utils', ...)` before importing this.
 */
export function stubSignatures(): { issued: string[] } {
  const issued: string[] = [];
  jest.mocked(fetchStripeSignature).mockImplementation(async () => {
    const signature = `t=1700000000,v1=signature${issued.length + 1}`;
    issued.push(signature);
    return signature;
  });
  return { issued };
}
