import { randomBytes } from 'node:crypto';
import { DEDUP_REMEMBER_LUA, dedupSlot } from '../../src/events/dedup-window';
import type { BenchRedis } from '../lib/bench-redis';

export interface DedupIdsRow {
  ids: number;
  windowHours: number;
  baselineBytes: number;
  usedBytes: number;
  keys: number;
  /** Buckets not in the listpack encoding (a hash past hash-max-listpack-entries), of those sampled. */
  nonListpackBuckets: number;
  sampledBuckets: number;
  /** (used - baseline) / ids. */
  bytesPerId: number;
  /** Every id, asked again, was recognised (no id forgotten, none refused before its time). */
  allRecognised: boolean;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** An id shaped like Stripe's: evt_ + 24 base62 characters (evt_1QxYz...). */
function stripeLikeId(): string {
  const bytes = randomBytes(24);
  let out = 'evt_1';
  for (let i = 1; i < 24; i += 1) out += BASE62[bytes[i]! % 62];
  return out;
}

/**
 * The dedup window's own cost: `ids` Stripe-shaped ids remembered through the intake's `remember` (the same
 * Lua), their `created` spread evenly over the window's hours in order (as a steady rate would), then
 * Redis's used_memory over the ids. Nothing else is stored, so the difference is the window's alone.
 */
export async function benchDedupIds(redis: BenchRedis, plan: { ids: number; windowHours: number }): Promise<DedupIdsRow> {
  await redis.flush();
  const client = redis.client;
  const prefix = 'hooklane:{event-index}:dedup';
  const script = `${DEDUP_REMEMBER_LUA}\nreturn remember(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) and 1 or 0`;
  const sha = (await client.script('LOAD', script)) as string;
  const baselineBytes = await redis.usedMemory();
  const nowMs = Date.now();
  const startSeconds = Math.floor(nowMs / 1000) - plan.windowHours * 3600 + 3600;
  const spanSeconds = plan.windowHours * 3600 - 3600;
  const sample: string[] = [];
  const created: number[] = [];
  const batch = 2000;
  for (let done = 0; done < plan.ids; done += batch) {
    const pipeline = client.pipeline();
    for (let i = done; i < Math.min(plan.ids, done + batch); i += 1) {
      const id = stripeLikeId();
      const at = startSeconds + Math.floor((i / plan.ids) * spanSeconds);
      const slot = dedupSlot(id, at, plan.windowHours, nowMs);
      pipeline.evalsha(sha, 1, prefix, slot.hour, slot.field, slot.hash, slot.expireAt);
      if (i % 1000 === 0) {
        sample.push(id);
        created.push(at);
      }
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err, added]) => err || added !== 1);
    if (failed) throw new Error(`dedup bench: an id was not added (${failed[0]?.message ?? 'already there'})`);
  }
  const usedBytes = await redis.usedMemory();
  const keys = await client.dbsize();
  // Every sampled id is recognised again; and the buckets it sits in are listpacks.
  const again = client.pipeline();
  const encodings = client.pipeline();
  sample.forEach((id, k) => {
    const slot = dedupSlot(id, created[k]!, plan.windowHours, nowMs);
    again.evalsha(sha, 1, prefix, slot.hour, slot.field, slot.hash, slot.expireAt);
  });
  const answers = (await again.exec()) ?? [];
  const shardsOf = new Map<string, number>();
  for (const [k, id] of sample.entries()) {
    const slot = dedupSlot(id, created[k]!, plan.windowHours, nowMs);
    const shards = shardsOf.get(slot.hour) ?? Number(await client.hget(`${prefix}:${slot.hour}`, 's'));
    shardsOf.set(slot.hour, shards);
    encodings.object('ENCODING', `${prefix}:${slot.hour}:${Number(slot.hash) % shards}`);
  }
  const encoded = ((await encodings.exec()) ?? []).map(([, e]) => String(e));
  await redis.flush();
  return {
    ids: plan.ids,
    windowHours: plan.windowHours,
    baselineBytes,
    usedBytes,
    keys,
    nonListpackBuckets: encoded.filter((e) => e !== 'listpack').length,
    sampledBuckets: encoded.length,
    bytesPerId: Math.round(((usedBytes - baselineBytes) / plan.ids) * 10) / 10,
    allRecognised: answers.every(([err, added]) => !err && added === 0),
  };
}
