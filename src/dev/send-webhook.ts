import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { localDataDir } from '../cli/local-redis-url';
import { buildStripeEvent, producibleEventTypes, signStripePayload } from './stripe-event-builder';

const USAGE = `usage: npm run webhook -- <event.type> [--account acct_...] [--url http://localhost:3000] [--secret whsec_...]

Builds <event.type> from Stripe's fixtures, signs it like Stripe and posts it to <url>/webhooks/stripe.
The secret is --secret, else the first of STRIPE_WEBHOOK_SECRET, else the one \`npm start\` generated
(.data/dev-secrets.json). \`npm run webhook -- --list\` prints the event types the fixtures can build.`;

/** The secret `npm start` made up and printed, when there is one. */
function devSecret(): string | undefined {
  const file = path.join(localDataDir(path.resolve(__dirname, '..', '..')), 'dev-secrets.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { stripeWebhookSecret?: string }).stripeWebhookSecret;
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
  const payload = JSON.stringify(event, null, 2);
  const url = new URL('/webhooks/stripe', values.url).toString();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signStripePayload(payload, secret) },
    body: payload,
  });
  const forAccount = event.account ? ` (account ${event.account})` : '';
  process.stdout.write(`${event.type} ${event.id}${forAccount} -> ${url}\n${res.status} ${await res.text()}\n`);
  if (!res.ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`webhook failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
