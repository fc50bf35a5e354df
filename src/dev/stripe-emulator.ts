import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseStripeForm } from './stripe-form';
import { accountInaccessible, redactKey, StripeApiError } from './stripe-emulator-errors';
import { SecretsEmulation } from './stripe-emulator-secrets';

export interface StripeEmulatorOptions {
  /** The only key the emulator accepts, as Stripe accepts only your account's keys. */
  secretKey: string;
  port?: number;
  host?: string;
}

export interface StripeEmulator {
  /** e.g. http://127.0.0.1:12111, for STRIPE_API_BASE */
  url: string;
  port: number;
  secrets: SecretsEmulation;
  /**
   * The account uninstalled the app: from now on every request acting for it answers what Stripe
   * answers then (403 `account_invalid`), and its secrets are out of reach.
   */
  revokeAccess(account: string): void;
  stop(): Promise<void>;
}

/** What an emulated endpoint receives: the parsed params and the account it acts for. */
export interface EmulatedRequest {
  params: Record<string, unknown>;
  /** The `Stripe-Account` header, or the key's own account. */
  account: string;
  livemode: boolean;
}

type Endpoint = (request: EmulatedRequest) => unknown;

const OWN_ACCOUNT = 'acct_emulator';

/**
 * A local stand-in for the Stripe API endpoints hooklane uses (the Secret Store), speaking Stripe's
 * wire format: form-encoded bodies and bracketed query strings, Bearer secret-key auth, `Stripe-Account`
 * for connected accounts, Stripe's error envelopes. stripe-node reaches it through host/port/protocol.
 */
export async function startStripeEmulator(options: StripeEmulatorOptions): Promise<StripeEmulator> {
  const secrets = new SecretsEmulation();
  const revoked = new Set<string>();
  const routes: Record<string, Endpoint> = {
    'POST /v1/apps/secrets': (r) => secrets.create(r),
    'GET /v1/apps/secrets': (r) => secrets.list(r),
    'GET /v1/apps/secrets/find': (r) => secrets.find(r),
    'POST /v1/apps/secrets/delete': (r) => secrets.deleteWhere(r),
  };
  const server = createServer((req, res) => {
    void handle(req, res, routes, options.secretKey, revoked);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    secrets,
    revokeAccess: (account) => revoked.add(account),
    stop: () => close(server),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Record<string, Endpoint>,
  key: string,
  revoked: ReadonlySet<string>,
) {
  res.setHeader('Request-Id', `req_${randomBytes(7).toString('hex')}`);
  const version = req.headers['stripe-version'];
  if (typeof version === 'string') res.setHeader('Stripe-Version', version);
  try {
    const url = new URL(req.url ?? '/', 'http://emulator');
    authenticate(req.headers.authorization, key);
    const endpoint = routes[`${req.method} ${url.pathname}`];
    if (!endpoint) throw unrecognizedUrl(req.method ?? 'GET', url.pathname);
    const params = req.method === 'GET' ? parseStripeForm(url.search.slice(1)) : parseStripeForm(await readForm(req));
    const account = typeof req.headers['stripe-account'] === 'string' ? req.headers['stripe-account'] : OWN_ACCOUNT;
    if (revoked.has(account)) throw accountInaccessible(key, account);
    send(res, 200, endpoint({ params, account, livemode: key.includes('_live_') }));
  } catch (err) {
    if (err instanceof StripeApiError) send(res, err.status, { error: err.body });
    else send(res, 500, { error: { message: 'An unknown error occurred', type: 'api_error' } });
  }
}

function authenticate(header: string | undefined, key: string): void {
  const bearer = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
  // Stripe also takes the key as the HTTP Basic user name (curl -u sk_test_...:).
  const basic = /^Basic (\S+)$/i.exec(header ?? '')?.[1];
  const provided = bearer ?? (basic ? Buffer.from(basic, 'base64').toString().split(':')[0] : undefined);
  if (!provided) {
    throw new StripeApiError(401, {
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      type: 'invalid_request_error',
    });
  }
  if (provided !== key) {
    throw new StripeApiError(401, {
      message: `Invalid API Key provided: ${redactKey(provided)}`,
      type: 'invalid_request_error',
    });
  }
}

function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(404, {
    message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    type: 'invalid_request_error',
  });
}

async function readForm(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (body && !type.startsWith('application/x-www-form-urlencoded')) {
    throw new StripeApiError(400, {
      message: `Invalid request: unsupported Content-Type ${type}. If error persists and you need assistance, please contact support@stripe.com.`,
      type: 'invalid_request_error',
    });
  }
  return body;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
