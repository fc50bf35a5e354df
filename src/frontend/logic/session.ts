/** The admin token lives in sessionStorage: asked once per tab, gone when the tab closes. */
const TOKEN_KEY = 'hooklane.adminToken';

export type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export function readToken(storage: TokenStorage): string | null {
  const token = storage.getItem(TOKEN_KEY);
  return token && token.trim() ? token : null;
}

export function saveToken(storage: TokenStorage, token: string): void {
  storage.setItem(TOKEN_KEY, token);
}

export function forgetToken(storage: TokenStorage): void {
  storage.removeItem(TOKEN_KEY);
}

/** What the sign-in form says before asking the server: the server's rules are the real check. */
export function tokenInputProblem(input: string): string | null {
  const token = input.trim();
  if (!token) return 'Paste the admin token (the ADMIN_TOKEN setting of this deployment).';
  if (/\s/.test(token)) return 'The token cannot contain spaces.';
  if (token.length < 16) return 'Admin tokens are at least 16 characters long; check that you pasted all of it.';
  return null;
}
