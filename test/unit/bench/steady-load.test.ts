import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SteadyLoad, summarise } from '../../../bench/lib/steady-load';
import { BENCH_WEBHOOK_SECRET } from '../../../bench/lib/signed-events';

describe('SteadyLoad (the benchmark and fault suite load generator)', () => {
  let server: Server;
  let url: string;
  const arrivals: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      arrivals.push(performance.now());
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true,"duplicate":false}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('spreads the requests over time at the given rate instead of sending them in one burst', async () => {
    // 40 requests at 100/s are due over 390 ms; a burst (what autocannon's overallRate does at the top of
    // each second) would deliver them all within a few ms of the start. The last cannot arrive before it is due,
    // however slow the machine (a late first request, with its connection to set up, must not count as a burst).
    const started = performance.now();
    const outcomes = await new SteadyLoad({ url, rate: 100, maxRequests: 40, maxDurationMs: 30_000, secret: BENCH_WEBHOOK_SECRET, prefix: 'pace' }).done;
    const summary = summarise(outcomes);
    expect(summary.sent).toBe(40);
    expect(summary.failed).toBe(0);
    expect(new Set(summary.accepted).size).toBe(40);
    expect(arrivals).toHaveLength(40);
    expect(arrivals[39]! - started).toBeGreaterThanOrEqual(390);
  });

  it('refuses to send anywhere but loopback', () => {
    expect(() => new SteadyLoad({ url: 'http://example.com', rate: 1, maxRequests: 1, maxDurationMs: 1, secret: BENCH_WEBHOOK_SECRET, prefix: 'x' })).toThrow(/loopback only/);
  });
});
