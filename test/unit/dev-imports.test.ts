import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.join(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'dev' || entry.name === 'frontend' ? [] : sourceFiles(file);
    return /\.tsx?$/.test(entry.name) ? [file] : [];
  });
}

// import ... from '../dev/x', require('../dev/x'), import('../dev/x')
const DEV_IMPORT = /(?:from\s+|require\(\s*|import\(\s*)['"](?:\.\.\/)+dev\//;

describe('production code never imports src/dev/ (the dev routes are mounted by npm start, not chosen by NODE_ENV)', () => {
  test('only web/main.ts loads dev/, and only behind DEV_ROUTES', () => {
    const importers = sourceFiles(SRC)
      .filter((file) => DEV_IMPORT.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(SRC, file));
    expect(importers).toEqual([path.join('web', 'main.ts')]);
    const main = readFileSync(path.join(SRC, 'web', 'main.ts'), 'utf8');
    expect(main).toMatch(/config\.DEV_ROUTES \? loadDevRoutes\(config\) : undefined/);
  });
});
