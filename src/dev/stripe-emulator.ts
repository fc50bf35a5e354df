import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseStripeForm } from './stripe-form';
import type Stripe from 'stripe';
import { accountInaccessible, parameterMissing, redactKey, StripeApiError, v2ErrorBody } from './stripe-emulator-errors';
import { EventsEmulation } from './stripe-emulator-events';
import { RateLimitEmulation } from './stripe-emulator-rate-limit';
import { SecretsEmulation } from './stripe-emulator-secrets';

export interface StripeEmulatorOptions {
  /** The only key the emulator accepts, as Stripe accepts only your account's keys. */
  secretKey: string;
  port?: number;
  host?: string;
  /** Requests per second Stripe would serve before answering 429 (unlimited when absent). */
  rateLimitPerSecond?: number;
}

export interface StripeEmulator {
  /** e.g. http://127.0.0.1:12111, for STRIPE_API_BASE */
  url: string;
  port: number;
  secrets: SecretsEmulation;
  /** Stripe's event history: what `/v1/events`, `/v2/core/events/:id` and related objects answer. */
  events: EventsEmulation;
  /** The 429 limiter: its limit can change while running; it counts what it served and refused. */
  rateLimit: RateLimitEmulation;
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

type Endpoint = (request: EmulatedRequest, pathParam: string) => unknown;
interface Route {
  method: string;
  pattern: RegExp;
  endpoint: Endpoint;
}

/** `'GET /v1/events/:id'` → a route whose `:id` (one path segment) is passed to the endpoint. */
function route(spec: string, endpoint: Endpoint): Route {
  const [method, path] = spec.split(' ') as [string, string];
  const pattern = new RegExp(`^${path.replace(/\/:id$/, '/([^/]+)')}$`);
  return { method, pattern, endpoint };
}

function findRoute(routes: Route[], method: string, path: string): { endpoint: Endpoint; param: string } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (match) return { endpoint: candidate.endpoint, param: decodeURIComponent(match[1] ?? '') };
  }
  return undefined;
}

function objectOr404(events: EventsEmulation, path: string): unknown {
  const object = events.objectAt(path);
  if (!object) throw unrecognizedUrl('GET', path);
  return object;
}

interface HandlerContext {
  routes: Route[];
  key: string;
  revoked: ReadonlySet<string>;
  rateLimit: RateLimitEmulation;
  events: EventsEmulation;
}

const OWN_ACCOUNT = 'acct_emulator';

/**
 * A local stand-in for the Stripe API endpoints hooklane uses (the Secret Store), speaking Stripe's
 * wire format: form-encoded bodies and bracketed query strings, Bearer secret-key auth, `Stripe-Account`
 * for connected accounts, Stripe's error envelopes. stripe-node reaches it through host/port/protocol.
 */
export async function startStripeEmulator(options: StripeEmulatorOptions): Promise<StripeEmulator> {
  const secrets = new SecretsEmulation();
  const events = new EventsEmulation();
  const rateLimit = new RateLimitEmulation(options.rateLimitPerSecond);
  const revoked = new Set<string>();
  const routes: Route[] = [
    route('POST /v1/apps/secrets', (r) => secrets.create(r)),
    route('GET /v1/apps/secrets', (r) => secrets.list(r)),
    route('GET /v1/apps/secrets/find', (r) => secrets.find(r)),
    route('POST /v1/apps/secrets/delete', (r) => secrets.deleteWhere(r)),
    route('GET /v1/events', (r) => events.list(r)),
    route('GET /v1/events/:id', (r, id) => events.retrieve(r, id)),
    route('GET /v2/core/events/:id', (_r, id) => events.retrieveThin(id)),
    // Any object a recorded event refers to, at its related_object.url.
    { method: 'GET', pattern: /^(\/v1\/[a-z_/]+\/[A-Za-z0-9_]+)$/, endpoint: (_r, path) => objectOr404(events, path) },
  ];
  const server = createServer((req, res) => {
    void handle(req, res, { routes, key: options.secretKey, revoked, rateLimit, events });
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
    events,
    rateLimit,
    revokeAccess: (account) => revoked.add(account),
    stop: () => close(server),
  };
}

/**
 * Not Stripe's: how `npm run webhook -- <type> --thin|--undelivered` (another process) puts an event into
 * the emulator's history, as Stripe would have generated it. JSON in, the event (and notification) out.
 */
export const EMULATOR_EVENTS_PATH = '/_emulator/events';

interface RecordEventRequest {
  event: Stripe.Event;
  delivered?: boolean;
  thin?: boolean;
}

function recordEvent(events: EventsEmulation, request: RecordEventRequest): Record<string, unknown> {
  if (!request.event || typeof request.event.id !== 'string') throw parameterMissing('event');
  const delivered = request.delivered ?? true;
  if (request.thin) return { event: request.event, notification: events.addThinFor(request.event, { delivered }) };
  return { event: events.add(request.event, { delivered }) };
}

async function handle(req: IncomingMessage, res: ServerResponse, { routes, key, revoked, rateLimit, events }: HandlerContext) {
  res.setHeader('Request-Id', `req_${randomBytes(7).toString('hex')}`);
  const version = req.headers['stripe-version'];
  if (typeof version === 'string') res.setHeader('Stripe-Version', version);
  // v2 paths answer errors in v2's envelope (decided before parsing: a URL that fails to parse still gets an answer).
  const v2 = (req.url ?? '').startsWith('/v2/');
  try {
    const url = new URL(req.url ?? '/', 'http://emulator');
    authenticate(req.headers.authorization, key);
    // Stripe's limiter counts every authenticated request, whatever it asks for.
    rateLimit.admit();
    if (req.method === 'POST' && url.pathname === EMULATOR_EVENTS_PATH) {
      send(res, 200, recordEvent(events, JSON.parse((await readBody(req)) || '{}') as RecordEventRequest));
      return;
    }
    const found = findRoute(routes, req.method ?? 'GET', url.pathname);
    if (!found) throw unrecognizedUrl(req.method ?? 'GET', url.pathname);
    const params = req.method === 'GET' ? parseStripeForm(url.search.slice(1)) : parseStripeForm(await readForm(req));
    const account = typeof req.headers['stripe-account'] === 'string' ? req.headers['stripe-account'] : OWN_ACCOUNT;
    if (revoked.has(account)) throw accountInaccessible(key, account);
    send(res, 200, found.endpoint({ params, account, livemode: key.includes('_live_') }, found.param));
  } catch (err) {
    if (err instanceof StripeApiError) send(res, err.status, { error: v2 ? v2ErrorBody(err) : err.body }, err.headers);
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

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function readForm(req: IncomingMessage): Promise<string> {
  const body = await readBody(req);
  const type = req.headers['content-type'] ?? '';
  if (body && !type.startsWith('application/x-www-form-urlencoded')) {
    throw new StripeApiError(400, {
      message: `Invalid request: unsupported Content-Type ${type}. If error persists and you need assistance, please contact support@stripe.com.`,
      type: 'invalid_request_error',
    });
  }
  return body;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body, null, 2);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
