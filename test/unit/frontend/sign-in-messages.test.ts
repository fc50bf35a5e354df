import { ApiError } from '../../../src/frontend/logic/api-client';
import { signInFailureMessage } from '../../../src/frontend/logic/sign-in-messages';

describe('what the sign-in page says when sign-in fails', () => {
  it('when the server has admin routes turned off, says to set ADMIN_TOKEN, and does not claim the token was wrong', () => {
    const disabled = new ApiError(
      'unavailable',
      'Admin routes are disabled: set ADMIN_TOKEN (16+ characters) to enable them.',
      503,
      'ADMIN_NOT_CONFIGURED',
    );
    const message = signInFailureMessage(disabled);
    expect(message).toContain('ADMIN_TOKEN');
    expect(message).toContain('npm start');
    expect(message).not.toMatch(/not accepted/i);
  });

  it('when the token is wrong, says so and where the right one comes from', () => {
    const wrong = new ApiError('unauthorized', 'The bearer token is not valid.', 401, 'UNAUTHORIZED');
    expect(signInFailureMessage(wrong)).toMatch(/not accepted/);
  });
});
