import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';
import { consoleCspHeader } from '../../src/console-csp';
import { consoleStatic } from '../../src/web/console-static';

let dir: string;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'hooklane-console-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'favicon.svg'), '<svg/>');
  const app = express();
  app.use(helmet());
  app.use(consoleStatic(dir));
  app.use((_req, res) => void res.status(404).json({ code: 'NOT_FOUND' }));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const html = { accept: 'text/html' };

describe('console static files', () => {
  it('serves index.html at / with the strict console CSP and no caching', async () => {
    const res = await fetch(`${url}/`, { headers: html });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('id="app"');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toBe(consoleCspHeader());
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https:/);
  });

  it('answers client-side routes with index.html (SPA fallback)', async () => {
    for (const route of ['/events', '/jobs/jobs/job/abc', '/events/evt_1']) {
      const res = await fetch(`${url}${route}`, { headers: html });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('id="app"');
    }
  });

  it('caches hashed assets for a year', async () => {
    const res = await fetch(`${url}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('never answers /api, /webhooks or a missing file with index.html', async () => {
    for (const route of ['/api/nope', '/webhooks/stripe', '/assets/index-old.js', '/api']) {
      const res = await fetch(`${url}${route}`, { headers: html });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('id="app"');
    }
    const api = await fetch(`${url}/api/nope`);
    expect(api.headers.get('content-security-policy')).not.toBe(consoleCspHeader());
  });

  it('when the console was not built, serves nothing and lets the 404 through', async () => {
    const app = express();
    app.use(consoleStatic(path.join(dir, 'missing')));
    app.use((_req, res) => void res.status(404).end());
    const other = createServer(app);
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`, { headers: html });
    await new Promise<void>((resolve) => other.close(() => resolve()));
    expect(res.status).toBe(404);
  });
});
