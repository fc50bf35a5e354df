import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../../src/config';
import { headingAnchors, markdownFiles, readDoc, relativeLinks, repoRoot } from '../../support/markdown-docs';

describe('README and docs/', () => {
  test('every relative link resolves to a file, and every #anchor to a heading of that file', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      for (const link of relativeLinks(readDoc(file))) {
        const [target, anchor] = link.split('#') as [string, string | undefined];
        const resolved = target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
        const absolute = path.join(repoRoot, resolved);
        if (!existsSync(absolute)) {
          broken.push(`${file}: ${link} (no ${resolved})`);
          continue;
        }
        if (anchor !== undefined && statSync(absolute).isFile() && resolved.endsWith('.md')) {
          if (!headingAnchors(readDoc(resolved)).has(anchor)) broken.push(`${file}: ${link} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  test("the README shows the console (the e2e test's screenshot, docs/images/)", () => {
    expect(readDoc('README.md')).toMatch(/!\[[^\]]+\]\(docs\/images\/console-overview\.png\)/);
  });

  test('the README stays short: at most 300 lines', () => {
    expect(readDoc('README.md').split('\n').length).toBeLessThanOrEqual(300);
  });

  test('docs/configuration.md documents every key of the config schema, and no key the schema does not know', () => {
    const text = readDoc('docs/configuration.md');
    const schemaKeys = Object.keys(configSchema.shape).sort();
    const tableKeys = new Set(
      [...text.matchAll(/^\|([^|]+)\|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((k) => k[1]!)),
    );
    expect(schemaKeys.filter((key) => !tableKeys.has(key))).toEqual([]);
    expect([...tableKeys].filter((key) => !schemaKeys.includes(key)).sort()).toEqual([]);
  });
});
