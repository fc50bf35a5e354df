import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

interface Manifest {
  extends?: string;
  id?: string;
  permissions?: Array<{ permission: string; purpose: string }>;
  ui_extension?: {
    views?: Array<{ viewport: string; component: string }>;
    content_security_policy?: { 'connect-src'?: string[] | null; purpose?: string };
  };
  constants?: { HOOKLANE_BACKEND_URL?: string | Record<string, string> };
}

function manifest(file: string): Manifest {
  return JSON.parse(readFileSync(join(root, file), 'utf8')) as Manifest;
}

/** What `stripe apps start/upload --manifest <file>` sees: the file laid over the one it extends. */
function effective(file: string): Manifest {
  const own = manifest(file);
  if (!own.extends) return own;
  const base = effective(own.extends);
  return {
    ...base,
    ...own,
    ui_extension: {
      ...base.ui_extension,
      ...own.ui_extension,
      content_security_policy: { ...base.ui_extension?.content_security_policy, ...own.ui_extension?.content_security_policy },
    },
    constants: { ...base.constants, ...own.constants },
  };
}

// A connect-src entry ending in "/" allows everything below it (Stripe's CSP rule for apps).
function allowedBy(csp: string[], url: string): boolean {
  return csp.some((entry) => (entry.endsWith('/') ? url.startsWith(entry) : url === entry));
}

function backendUrls(m: Manifest): string[] {
  const configured = m.constants?.HOOKLANE_BACKEND_URL;
  if (configured === undefined) return [];
  return typeof configured === 'string' ? [configured] : Object.values(configured);
}

describe.each(['stripe-app.json', 'stripe-app.dev.json'])('%s', (file) => {
  const m = effective(file);

  it('puts the payment detail view and the drawer view where Stripe expects them', () => {
    expect(m.ui_extension?.views).toEqual([
      { viewport: 'stripe.dashboard.payment.detail', component: 'PaymentDetailView' },
      { viewport: 'stripe.dashboard.drawer.default', component: 'DrawerView' },
    ]);
    for (const view of m.ui_extension?.views ?? []) {
      expect(existsSync(join(root, 'src/views', `${view.component}.tsx`))).toBe(true);
    }
  });

  it("lets the app reach every route it calls on the back-end it is configured with (CSP connect-src)", () => {
    const csp = m.ui_extension?.content_security_policy?.['connect-src'] ?? [];
    const urls = backendUrls(m);
    expect(urls.length).toBeGreaterThan(0);
    for (const base of urls) {
      for (const path of ['/api/oauth/userinfo', '/api/oauth/logout', '/api/app/payments/pi_1/status']) {
        expect(allowedBy(csp, `${base}${path}`)).toBe(true);
      }
    }
    expect(m.ui_extension?.content_security_policy?.purpose).toBeTruthy();
  });

  it('asks for the Secret Store permission the back-end needs, each with a purpose', () => {
    expect(m.permissions?.map((p) => p.permission)).toContain('secret_write');
    expect(m.permissions?.every((p) => p.purpose.length > 0)).toBe(true);
  });
});

it('the development manifest only swaps the back-end: same app, same views', () => {
  const dev = manifest('stripe-app.dev.json');
  expect(dev.extends).toBe('stripe-app.json');
  expect(effective('stripe-app.dev.json').id).toBe(manifest('stripe-app.json').id);
  expect(backendUrls(effective('stripe-app.dev.json'))).not.toEqual(backendUrls(manifest('stripe-app.json')));
});
