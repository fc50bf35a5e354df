import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runInNewContext } from 'node:vm';

// The CloudFront Function file runs as it will at the edge: a plain script defining handler(event).
const source = readFileSync(path.join(__dirname, '../../infra/lib/spa-routing-function.js'), 'utf8');
const handler = runInNewContext(`${source}; handler`) as (event: unknown) => { uri: string };
const route = (uri: string) => handler({ request: { uri, headers: {} } }).uri;

describe('SPA routing CloudFront Function', () => {
  it.each(['/', '/jobs', '/jobs/42', '/events/evt_123/'])('serves index.html for the client-side route %s', (uri) => {
    expect(route(uri)).toBe('/index.html');
  });

  it.each(['/index.html', '/assets/index-4f2a.js', '/favicon.ico', '/assets/app.css'])('leaves the static file %s alone', (uri) => {
    expect(route(uri)).toBe(uri);
  });
});
