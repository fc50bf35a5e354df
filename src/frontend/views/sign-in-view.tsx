import { useState } from 'preact/hooks';
import { ApiError, networkError, verifyToken } from '../logic/api-client';
import { tokenInputProblem } from '../logic/session';
import { signInFailureMessage } from '../logic/sign-in-messages';

export interface SignInProps {
  /** Why the operator is asked (e.g. the token was rejected by a later call). */
  notice: string | null;
  onSignedIn: (token: string, tokenId: string) => void;
}

/** Asks for ADMIN_TOKEN once per tab and checks it with the server before keeping it. */
export function SignInView({ notice, onSignedIn }: SignInProps) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = tokenInputProblem(token);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await verifyToken(fetch.bind(window), token.trim());
      onSignedIn(token.trim(), session.tokenId);
    } catch (err) {
      const apiError = err instanceof ApiError ? err : networkError(err);
      setError(signInFailureMessage(apiError));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <form class="card sign-in-card" onSubmit={submit} noValidate>
        <h1>hooklane console</h1>
        <p class="muted">Sign in with the admin token. It is kept for this tab only and forgotten when you close it.</p>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-invalid={error ? 'true' : 'false'}
          aria-describedby="sign-in-error"
          autoFocus
        />
        <p id="sign-in-error" class="field-error" role="alert" data-testid="sign-in-error">
          {error ?? ''}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
