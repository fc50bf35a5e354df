import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { BENCH_WEBHOOK_SECRET, signPayload, signedEvents } from '../../bench/lib/signed-events';

export interface MalformedReport {
  sent: number;
  byStatus: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  errors: Record<string, number>;
  /** Requests that got no HTTP answer at all. */
  connectionErrors: number;
  peakRss: number[];
}

type Kind = 'bad-json' | 'bad-signature' | 'missing-signature' | 'expired-signature' | 'wrong-content-type' | 'huge-body' | 'huge-chunked' | 'slow-body' | 'invalid-http';

interface Shot {
  kind: Kind;
  headers: Record<string, string>;
  /** Body pieces; more than one is sent slowly, with `gapMs` between pieces. */
  pieces: Buffer[];
  gapMs?: number;
  chunked?: boolean;
}

const HUGE = Buffer.alloc(2 * 1024 * 1024, 'a');

/** The mix, by position: mostly cheap bad requests, every 50th huge, every 100th invalid HTTP, every 500th slow. */
function shotFor(i: number, event: { body: string; signature: string }): Shot {
  const json = { 'content-type': 'application/json' };
  const body = Buffer.from(event.body);
  if (i % 500 === 499) {
    const step = Math.ceil(body.length / 8);
    const pieces = Array.from({ length: 8 }, (_, k) => body.subarray(k * step, (k + 1) * step));
    return { kind: 'slow-body', headers: { ...json, 'stripe-signature': `${event.signature}0` }, pieces, gapMs: 250 };
  }
  if (i % 100 === 99) return { kind: 'invalid-http', headers: {}, pieces: [] };
  if (i % 100 === 49) return { kind: 'huge-chunked', headers: { ...json, 'stripe-signature': event.signature }, pieces: [HUGE], chunked: true };
  if (i % 50 === 24) return { kind: 'huge-body', headers: { ...json, 'stripe-signature': event.signature }, pieces: [HUGE] };
  switch (i % 5) {
    case 0:
      return { kind: 'bad-json', headers: { ...json, 'stripe-signature': signPayload('{"id": "evt_1", ') }, pieces: [Buffer.from('{"id": "evt_1", ')] };
    case 1:
      return { kind: 'bad-signature', headers: { ...json, 'stripe-signature': signPayload(event.body, 'whsec_not_ours') }, pieces: [body] };
    case 2:
      return { kind: 'missing-signature', headers: json, pieces: [body] };
    case 3:
      return { kind: 'expired-signature', headers: { ...json, 'stripe-signature': signPayload(event.body, BENCH_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600) }, pieces: [body] };
    default:
      return { kind: 'wrong-content-type', headers: { 'content-type': 'text/plain', 'stripe-signature': 't=abc' }, pieces: [body] };
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Garbage on the wire: whatever answers (HAProxy, normally 400) is the status. */
function sendInvalidHttp(url: URL): Promise<{ status: number; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write('POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}'));
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve(status ? { status } : { status: 0, error: 'no answer' });
    });
    socket.on('error', () => undefined);
  });
}

function send(agent: Agent, url: URL, shot: Shot, retry = true): Promise<{ status: number; error?: string }> {
  if (shot.kind === 'invalid-http') return sendInvalidHttp(url);
  return new Promise((resolve) => {
    let answered: number | undefined;
    const length = shot.pieces.reduce((n, p) => n + p.length, 0);
    const headers = shot.chunked ? shot.headers : { ...shot.headers, 'content-length': String(length) };
    const req = request({ agent, host: url.hostname, port: url.port, method: 'POST', path: '/webhooks/stripe', headers, timeout: 40_000 }, (res) => {
      answered = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve({ status: answered! }));
      res.on('error', () => resolve({ status: answered! }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // A server may answer (413) and close before the whole body is written: the answer counts.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (answered) return resolve({ status: answered });
      // A kept-alive connection closed by the other side as it was reused: retry once, as clients do.
      if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && retry) return resolve(send(agent, url, shot, false));
      resolve({ status: 0, error: err.code ?? err.message });
    });
    void (async () => {
      for (const [k, piece] of shot.pieces.entries()) {
        if (req.destroyed) return;
        if (!req.write(piece)) await new Promise((r) => req.once('drain', r));
        if (shot.gapMs && k < shot.pieces.length - 1) await pause(shot.gapMs);
      }
      req.end();
    })();
  });
}

/**
 * Sends `count` malformed requests to the webhook through `frontUrl`, `concurrency` at a time: bad JSON,
 * bad, missing and expired signatures, wrong content types, 2 MiB bodies (declared and chunked), slow
 * bodies and invalid HTTP. `sampleRss` is called every 200 ms to follow the web processes' memory.
 */
export async function sendMalformed(frontUrl: string, count: number, concurrency = 32, sampleRss: () => number[] = () => []): Promise<MalformedReport> {
  const url = new URL(frontUrl);
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error('loopback only');
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const events = signedEvents(200, { prefix: `mal${Date.now().toString(36)}` });
  const report: MalformedReport = { sent: 0, byStatus: {}, byKind: {}, errors: {}, connectionErrors: 0, peakRss: [] };
  const sampler = setInterval(() => {
    const rss = sampleRss();
    report.peakRss = rss.map((r, i) => Math.max(r, report.peakRss[i] ?? 0));
  }, 200);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const shot = shotFor(i, events[i % events.length]!);
      const { status, error } = await send(agent, url, shot);
      report.sent += 1;
      report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
      const kind = (report.byKind[shot.kind] ??= {});
      kind[status] = (kind[status] ?? 0) + 1;
      if (error) {
        report.errors[error] = (report.errors[error] ?? 0) + 1;
        report.connectionErrors += 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    clearInterval(sampler);
    agent.destroy();
  }
  return report;
}
