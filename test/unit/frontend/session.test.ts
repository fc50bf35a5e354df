import { forgetToken, readToken, saveToken, tokenInputProblem } from '../../../src/frontend/logic/session';

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

describe('admin token storage', () => {
  it('keeps the token until it is forgotten', () => {
    const storage = memoryStorage();
    expect(readToken(storage)).toBeNull();
    saveToken(storage, 'tok-0123456789abcdef');
    expect(readToken(storage)).toBe('tok-0123456789abcdef');
    forgetToken(storage);
    expect(readToken(storage)).toBeNull();
  });

  it('checks the input before asking the server', () => {
    expect(tokenInputProblem('  ')).toMatch(/Paste the admin token/);
    expect(tokenInputProblem('abc def ghi jkl mno')).toMatch(/spaces/);
    expect(tokenInputProblem('short')).toMatch(/at least 16/);
    expect(tokenInputProblem(' a-valid-looking-token-123 ')).toBeNull();
  });
});
