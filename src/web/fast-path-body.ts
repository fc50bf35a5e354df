import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors';

// Defined beside the config keys whose format it reads; re-exported for the fast path's callers.
export { parseByteSize } from '../config';

export const bodyTooLarge = () =>
  new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than the configured limit.');

/**
 * Reads a request body into one Buffer, never holding more than `limit` bytes: a declared length over the
 * limit is refused before a byte is read, a chunked body as soon as it crosses it. A client that aborts
 * rejects with `aborted`; the caller answers nothing then (there is nobody to answer).
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(bodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop buffering; the rest of the body is discarded while the answer goes out.
        req.resume();
        reject(bodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => {
      cleanup();
      reject(Object.assign(new Error('request aborted'), { code: 'ECONNRESET' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
