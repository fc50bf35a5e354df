import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDevSecrets } from './dev-secrets';
import { startStack, type Stack } from './stack';

function say(line: string): void {
  process.stdout.write(`[stack] ${line}\n`);
}

function count(value: string | undefined, name: string, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new Error(`--${name} must be an integer 1-32`);
  return n;
}

/**
 * `npm run stack -- --web N --worker M [--port P]`: N web and M worker processes behind HAProxy, one Redis
 * with AOF, as on Elastic Beanstalk. A dead instance is replaced. Ctrl-C stops everything and keeps the logs.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      web: { type: 'string' },
      worker: { type: 'string' },
      port: { type: 'string' },
      'no-respawn': { type: 'boolean' },
    },
  });
  const web = count(values.web, 'web', 2);
  const worker = count(values.worker, 'worker', 1);
  const port = values.port === undefined ? Number(process.env.PORT ?? 8080) : Number(values.port);
  // Without a webhook secret the intake answers 503; use the one `npm start` keeps, so `npm run webhook` signs alike.
  const env: Record<string, string> = {};
  if (!process.env.STRIPE_WEBHOOK_SECRET) {
    env.STRIPE_WEBHOOK_SECRET = loadDevSecrets(path.resolve(__dirname, '..', '..', '.data')).stripeWebhookSecret;
  }
  say(`starting Redis (AOF on), ${web} web, ${worker} worker, HAProxy...`);
  // The logs outlive the stack: after Ctrl-C they are what tells what happened.
  const stack: Stack = await startStack({ web, worker, port, env, respawn: !values['no-respawn'], keepLogs: true });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping HAProxy, web, worker, then Redis...`);
    await stack.stop();
    say(`stopped; logs kept in ${path.join(stack.dir, 'logs')}`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  for (const instance of [...stack.web, ...stack.worker]) {
    say(`${instance.name.padEnd(8)} pid ${instance.pid}${instance.port ? ` port ${instance.port}` : ''}  log ${instance.logFile}`);
  }
  say(`redis    ${stack.redis.url}`);
  say(`HAProxy stats ${stack.statsUrl}`);
  if (env.STRIPE_WEBHOOK_SECRET) say(`webhooks: signed with the dev secret in .data/dev-secrets.json; try npm run webhook -- customer.created --url ${stack.url}`);
  say(`front URL ${stack.url}   (Ctrl-C stops everything)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[stack] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
