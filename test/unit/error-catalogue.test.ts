import { readFileSync } from 'node:fs';
import path from 'node:path';
import { errorCatalogue } from '../../src/errors';
// Importing the app loads every route module, and with them every module that registers error codes.
import '../../src/web/app';

describe('error code catalogue', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const documented = new Map(
    [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const),
  );

  test('every code a client can receive is listed in the README with its status', () => {
    const missing = Object.entries(errorCatalogue())
      .filter(([code, { status }]) => documented.get(code) !== status)
      .map(([code, { status }]) => `${code} ${status}`);
    expect(missing).toEqual([]);
  });

  test('the README lists no code the service does not have', () => {
    const unknown = [...documented.keys()].filter((code) => !(code in errorCatalogue()));
    expect(unknown).toEqual([]);
  });
});
