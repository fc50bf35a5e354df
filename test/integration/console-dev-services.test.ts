import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { startConsoleDevServices } from '../../src/dev/console-dev-services';

const publicUrl = 'http://localhost:3999';
let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-dev-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start without ADMIN_TOKEN', () => {
  test('makes up an admin token the config accepts, keeps it in .data/dev-secrets.json, and prints the console URL with it', async () => {
    const first = (await startConsoleDevServices({ env: {}, dataDir, publicUrl }))!;
    const token = first.env.ADMIN_TOKEN!;

    expect(loadConfig({ NODE_ENV: 'development', REDIS_URL: 'redis://127.0.0.1:1', ADMIN_TOKEN: token }).ADMIN_TOKEN).toBe(token);
    expect(first.banner).toContain(`console: ${publicUrl} (token ${token})`);
    expect(JSON.parse(readFileSync(path.join(dataDir, 'dev-secrets.json'), 'utf8')).adminToken).toBe(token);

    const second = (await startConsoleDevServices({ env: {}, dataDir, publicUrl }))!;
    expect(second.env.ADMIN_TOKEN).toBe(token);
  });

  test('with ADMIN_TOKEN set, keeps it and prints the console URL without repeating the token', async () => {
    const service = (await startConsoleDevServices({ env: { ADMIN_TOKEN: 'mine-0123456789abcdef' }, dataDir, publicUrl }))!;

    expect(service.env.ADMIN_TOKEN).toBeUndefined();
    expect(service.banner.join('\n')).toContain(`console: ${publicUrl} (token: your ADMIN_TOKEN)`);
    expect(service.banner.join('\n')).not.toContain('mine-0123456789abcdef');
  });
});
