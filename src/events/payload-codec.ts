import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { PAYLOAD_DICTIONARY_V1 } from './payload-dictionary';

/**
 * How the event index stores a payload: one byte of format, then the body. Format 1: deflate-raw (level 6)
 * with the v1 preset dictionary. Stripe's JSON compresses 3 to 6 times (docs/numbers.md); the web never
 * compresses (its fast path stays a byte copy), the worker's intake mover does, once per event.
 * A payload stored before compression (it starts with `{`) reads as it is.
 */
const FORMAT_DEFLATE_V1 = 0x01;
const dictionary = Buffer.from(PAYLOAD_DICTIONARY_V1);

export function encodePayload(body: string | Buffer): Buffer {
  const deflated = deflateRawSync(body, { dictionary });
  const out = Buffer.allocUnsafe(deflated.length + 1);
  out[0] = FORMAT_DEFLATE_V1;
  deflated.copy(out, 1);
  return out;
}

/** The raw body, exactly as signed. Throws on bytes no version of hooklane wrote. */
export function decodePayload(stored: Buffer): string {
  if (stored.length > 0 && stored[0] === FORMAT_DEFLATE_V1) return inflateRawSync(stored.subarray(1), { dictionary }).toString('utf8');
  if (stored.length > 0 && stored[0] === 0x7b) return stored.toString('utf8');
  throw new Error(`stored payload has an unknown format (first byte ${stored[0] ?? 'none'})`);
}
