import { errorCatalogue } from '../../src/errors';
import { markdownFiles, readDoc } from '../support/markdown-docs';
// Importing the app loads every route module, and with them every module that registers error codes.
import '../../src/web/app';

describe('error code catalogue', () => {
  // Codes are listed beside the routes that send them, in README.md and docs/*.md (api.md, stripe.md, ...).
  const readme = markdownFiles().map(readDoc).join('\n');
  const documented = new Map(
    [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const),
  );

  test('every code a client can receive is listed in the docs with its status', () => {
    const missing = Object.entries(errorCatalogue())
      .filter(([code, { status }]) => documented.get(code) !== status)
      .map(([code, { status }]) => `${code} ${status}`);
    expect(missing).toEqual([]);
  });

  test('the docs list no code the service does not have', () => {
    const unknown = [...documented.keys()].filter((code) => !(code in errorCatalogue()));
    expect(unknown).toEqual([]);
  });
});
