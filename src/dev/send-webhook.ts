import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { localDataDir } from '../cli/local-redis-url';
import { EMULATOR_EVENTS_PATH } from './stripe-emulator';
import { buildStripeEvent, producibleEventTypes, signStripePayload } from './stripe-event-builder';

const USAGE = `usage: npm run webhook -- <event.type> [--account acct_...] [--url http://localhost:3000] [--secret whsec_...] [--thin | --undelivered]

Builds <event.type> from Stripe's fixtures, signs it like Stripe and posts it to <url>/webhooks/stripe.
--thin records the event in the local Stripe emulator and sends its thin notification (v1.<type>) instead:
the worker fetches the full event from the emulator. --undelivered only records it in the emulator, as an
event Stripe failed to deliver (delivery_success=false): reconciliation must find it. The emulator is
STRIPE_API_BASE (default http://127.0.0.1:12111), its key STRIPE_SECRET_KEY or the one \`npm start\` made.
The secret is --secret, else the first of STRIPE_WEBHOOK_SECRET, else the one \`npm start\` generated
(.data/dev-secrets.json). \`npm run webhook -- --list\` prints the event types the fixtures can build.`;

/** The secret `npm start` made up and printed, when there is one. */
function devSecret(name: 'stripeWebhookSecret' | 'stripeSecretKey' = 'stripeWebhookSecret'): string | undefined {
  const file = path.join(localDataDir(path.resolve(__dirname, '..', '..')), 'dev-secrets.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string | undefined>)[name];
}

/** Puts the event into the local emulator's history; answers what it recorded (the notification for --thin). */
async function recordInEmulator(event: unknown, options: { thin: boolean; delivered: boolean }): Promise<{ notification?: unknown }> {
  const base = process.env.STRIPE_API_BASE ?? 'http://127.0.0.1:12111';
  const key = process.env.STRIPE_SECRET_KEY ?? devSecret('stripeSecretKey');
  if (!key) fail('no Stripe key for the emulator: set STRIPE_SECRET_KEY or run `npm start` once');
  const res = await fetch(new URL(EMULATOR_EVENTS_PATH, base), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event, ...options }),
  });
  if (!res.ok) fail(`the Stripe emulator at ${base} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { notification?: unknown };
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** `npm run webhook`: like `stripe trigger`, against a local hooklane. */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      account: { type: 'string' },
      url: { type: 'string', default: process.env.HOOKLANE_URL ?? `http://localhost:${process.env.PORT ?? 3000}` },
      secret: { type: 'string' },
      list: { type: 'boolean', default: false },
      thin: { type: 'boolean', default: false },
      undelivered: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.list) {
    process.stdout.write(`${producibleEventTypes().join('\n')}\n`);
    return;
  }
  const type = positionals[0] ?? fail('name an event type, e.g. payment_intent.succeeded');
  if (values.account && !/^acct_[A-Za-z0-9]+$/.test(values.account)) fail('--account must look like acct_...');
  const secret = values.secret ?? process.env.STRIPE_WEBHOOK_SECRET?.split(',')[0]?.trim() ?? devSecret();
  if (!secret) fail('no webhook secret: pass --secret or set STRIPE_WEBHOOK_SECRET');

  let event;
  try {
    event = buildStripeEvent(type, values.account ? { account: values.account } : {});
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.thin && values.undelivered) fail('--thin and --undelivered do not go together');
  if (values.undelivered) {
    await recordInEmulator(event, { thin: false, delivered: false });
    process.stdout.write(`${event.type} ${event.id} recorded in the Stripe emulator as undelivered (not sent)\n`);
    return;
  }
  const recorded = values.thin ? await recordInEmulator(event, { thin: true, delivered: true }) : undefined;
  const payload = JSON.stringify(recorded?.notification ?? event, null, 2);
  const url = new URL('/webhooks/stripe', values.url).toString();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signStripePayload(payload, secret) },
    body: payload,
  });
  const forAccount = event.account ? ` (account ${event.account})` : '';
  const sent = values.thin ? `thin v1.${event.type} (snapshot ${event.id})` : `${event.type} ${event.id}`;
  process.stdout.write(`${sent}${forAccount} -> ${url}\n${res.status} ${await res.text()}\n`);
  if (!res.ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`webhook failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
