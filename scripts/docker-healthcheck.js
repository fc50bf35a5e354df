// Docker HEALTHCHECK for both process types. The check runs beside PID 1 (tini), not inside it, so the
// process type is read from tini's arguments: `docker run IMAGE worker` -> .../docker-entrypoint.sh worker.
// web: liveness only (/healthz); readiness (/readyz) belongs to the load balancer, and an unhealthy
// container would otherwise be reported for every Redis failover.
// worker: it has no HTTP port, so it is healthy while it can reach Redis with its own configuration.
'use strict';
const { readFileSync } = require('node:fs');

const TIMEOUT_MS = 3000;

function processType() {
  try {
    const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
    const entry = args.findIndex((a) => a.endsWith('docker-entrypoint.sh'));
    return (entry >= 0 && args[entry + 1]) || 'web';
  } catch {
    return 'web';
  }
}

async function checkWeb() {
  const port = process.env.PORT || '3000';
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return res.ok;
}

async function checkWorker() {
  const { loadConfig } = require('../dist/config.js');
  const { createRedis, pingWithin, waitForRedis } = require('../dist/redis.js');
  const redis = createRedis(loadConfig(), 'producer');
  redis.on('error', () => {});
  try {
    await waitForRedis(redis, TIMEOUT_MS);
    return await pingWithin(redis, TIMEOUT_MS);
  } finally {
    redis.disconnect();
  }
}

const type = processType();
(type === 'worker' ? checkWorker() : checkWeb()).then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    process.stderr.write(`${type} health check failed: ${err.message}\n`);
    process.exit(1);
  },
);
