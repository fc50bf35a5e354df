import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './repo-root';

export const BENCH_WEBHOOK_SECRET = 'whsec_bench_0123456789abcdef0123456789abcdef';

export interface SignedEvent {
  id: string;
  body: string;
  signature: string;
}

type Fixtures = { resources: Record<string, Record<string, unknown>> };
let fixtures: Fixtures | undefined;

function fixture(name: string): Record<string, unknown> {
  fixtures ??= JSON.parse(readFileSync(process.env.STRIPE_FIXTURES_PATH ?? path.join(repoRoot(), 'fixtures', 'stripe', 'fixtures3.json'), 'utf8')) as Fixtures;
  const found = fixtures.resources[name];
  if (!found) throw new Error(`no ${name} in Stripe's fixtures`);
  return found;
}

/** A Stripe-Signature header exactly as Stripe builds it: t=<unix s>,v1=HMAC-SHA256(secret, "t.body"). */
export function signPayload(body: string, secret = BENCH_WEBHOOK_SECRET, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/**
 * `count` unique, correctly signed events built from Stripe's own example objects, made before a run so
 * that signing does not load the load generator while it measures.
 */
export function signedEvents(
  count: number,
  options: { prefix: string; type?: string; object?: string; secret?: string; objectPerEvent?: boolean },
): SignedEvent[] {
  const type = options.type ?? 'payment_intent.succeeded';
  const object = fixture(options.object ?? 'payment_intent');
  const base = fixture('event');
  const timestamp = Math.floor(Date.now() / 1000);
  const created = timestamp;
  const events: SignedEvent[] = new Array(count);
  for (let i = 0; i < count; i += 1) {
    const id = `evt_${options.prefix.replace(/[^A-Za-z0-9]/g, "")}_${i.toString(36)}`;
    // One object per event (`customer.created` of new customers): per-object ordering runs them side by side.
    const data = { object: options.objectPerEvent ? { ...object, id: `${String(object.id)}${i.toString(36)}` } : object };
    const body = JSON.stringify({ ...base, id, type, created, account: 'acct_bench0000000001', data });
    events[i] = { id, body, signature: signPayload(body, options.secret, timestamp) };
  }
  return events;
}

/** Makes `count` signed bodies whose ids start with `prefix` (snapshot events by default, thin notifications too). */
export type EventMaker = (count: number, prefix: string) => SignedEvent[];

/** Hands out pre-made events one by one; counts how many had to be made on the fly when the pool ran dry. */
export class EventPool {
  #next = 0;
  #extra = 0;
  constructor(
    private readonly events: SignedEvent[],
    private readonly prefix: string,
    private readonly make: EventMaker = (count, prefix) => signedEvents(count, { prefix }),
  ) {}
  take(): SignedEvent {
    const event = this.events[this.#next];
    this.#next += 1;
    if (event) return event;
    this.#extra += 1;
    return this.make(1, `${this.prefix}x${this.#extra}`)[0]!;
  }
  get used(): number {
    return this.#next;
  }
  get madeOnTheFly(): number {
    return this.#extra;
  }
}
