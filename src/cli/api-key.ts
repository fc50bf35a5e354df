import path from 'node:path';
import { ApiKeyStore } from '../api-keys/api-key-store';
import { API_KEY_SCOPES, type ApiKeyView } from '../api-keys/api-key-types';
import { configSchema } from '../config';
import { AppError } from '../errors';
import { createRedis, waitForRedis } from '../redis';
import { localDataDir, localRedisUrlFile, readLocalRedisUrl } from './local-redis-url';

/*
 * `npm run api-key -- create <name> [--scopes jobs:write,jobs:read] | list | revoke <id>`
 * (in a built image: `node dist/cli/api-key.js ...`). Talks to Redis directly, with the app's own
 * REDIS_URL, REDIS_PASSWORD and QUEUE_PREFIX; without REDIS_URL, to the Redis of a running `npm start`.
 */

const root = path.resolve(__dirname, '..', '..');

const USAGE = `Usage: npm run api-key -- <command>
  create <name> [--scopes ${API_KEY_SCOPES.join(',')}]   create a key and print it (shown only this once)
  list                                              list keys (never their secrets)
  revoke <id>                                       revoke a key: requests with it answer 403

Connects to REDIS_URL (with REDIS_PASSWORD and QUEUE_PREFIX) like the app does. Without REDIS_URL it
uses the embedded Redis of a running \`npm start\`.
`;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const EX_USAGE = 64;
const EX_UNAVAILABLE = 69;
const EX_CONFIG = 78;

interface Target {
  config: { REDIS_URL: string; REDIS_PASSWORD?: string | undefined; QUEUE_PREFIX: string };
  /** Where the URL came from, for messages. */
  source: string;
}

function targetFrom(env: NodeJS.ProcessEnv): Target {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  let source = 'REDIS_URL';
  if (!input.REDIS_URL) {
    const dataDir = localDataDir(root, env);
    const local = readLocalRedisUrl(dataDir);
    if (!local) {
      throw new CliError(
        'REDIS_URL is not set and no `npm start` is running here ' +
          `(${display(localRedisUrlFile(dataDir))} is missing).\n` +
          'Start hooklane with `npm start` in another terminal, or point this command at the Redis of the deployment:\n' +
          '  REDIS_URL=redis://127.0.0.1:6379 QUEUE_PREFIX=hooklane npm run api-key -- list\n' +
          '(set REDIS_PASSWORD too when the AUTH token is not in the URL).',
        EX_CONFIG,
      );
    }
    input.REDIS_URL = local;
    source = `npm start's embedded Redis (${display(localRedisUrlFile(dataDir))})`;
  }
  const parsed = configSchema.pick({ REDIS_URL: true, REDIS_PASSWORD: true, QUEUE_PREFIX: true }).safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new CliError(`Invalid configuration:\n${issues}`, EX_CONFIG);
  }
  return { config: parsed.data, source };
}

/** A path as a user reads it: relative to where they are when it is below it. */
function display(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}

/** The URL without its password, for messages. */
function shown(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function parseScopes(args: string[]): string[] | undefined {
  const at = args.findIndex((a) => a === '--scopes' || a.startsWith('--scopes='));
  if (at < 0) return undefined;
  const arg = args[at]!;
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[at + 1];
  if (!value) throw new CliError(`--scopes needs a value: ${API_KEY_SCOPES.join(',')}`, EX_USAGE);
  args.splice(at, arg.includes('=') ? 1 : 2);
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

const date = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

function table(keys: ApiKeyView[]): string {
  if (!keys.length) return 'No API keys yet. Create one with: npm run api-key -- create <name>\n';
  const rows = [
    ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map((k) => [k.id, k.name, k.scopes.join(','), date(k.createdAt), date(k.lastUsedAt), date(k.revokedAt)]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd()).join('\n') + '\n';
}

async function run(argv: string[], env: NodeJS.ProcessEnv, out: (text: string) => void): Promise<void> {
  const args = [...argv];
  const command = args.shift();
  if (!command) throw new CliError(USAGE.trimEnd(), EX_USAGE);
  if (command === 'help' || command === '--help' || command === '-h') {
    out(USAGE);
    return;
  }
  if (!['create', 'list', 'revoke'].includes(command)) throw new CliError(`Unknown command ${command}.\n\n${USAGE}`, EX_USAGE);
  const scopes = command === 'create' ? parseScopes(args) : undefined;
  if (command === 'create' && args.length !== 1) throw new CliError(`create takes one name (quote it if it has spaces).\n\n${USAGE}`, EX_USAGE);
  if (command === 'revoke' && args.length !== 1) throw new CliError(`revoke takes one key id (see list).\n\n${USAGE}`, EX_USAGE);
  if (command === 'list' && args.length !== 0) throw new CliError(`list takes no arguments.\n\n${USAGE}`, EX_USAGE);

  const { config, source } = targetFrom(env);
  const redis = createRedis(config, 'producer');
  redis.on('error', () => {}); // reported below, once, instead of on every reconnect attempt
  try {
    try {
      await waitForRedis(redis, 5000);
    } catch {
      throw new CliError(`Cannot reach Redis at ${shown(config.REDIS_URL)} (from ${source}).`, EX_UNAVAILABLE);
    }
    const store = new ApiKeyStore(redis, { prefix: config.QUEUE_PREFIX });
    if (command === 'create') {
      const { key, token } = await store.create({ name: args[0], scopes });
      out(
        `Created API key "${key.name}" (id ${key.id}, scopes ${key.scopes.join(', ')}).\n` +
          'This is the only time the key is shown; store it now (e.g. in a secret manager):\n\n' +
          `${token}\n\n` +
          'Send it as: Authorization: Bearer <key>   (POST /api/jobs needs jobs:write, GET /api/jobs/:id jobs:read)\n',
      );
    } else if (command === 'list') {
      out(table(await store.list()));
    } else {
      const key = await store.revoke(args[0]!);
      if (!key) throw new CliError(`No API key with id ${args[0]}.`, 1);
      out(`Revoked API key ${key.id} ("${key.name}") at ${date(key.revokedAt)}; requests with it now answer 403.\n`);
    }
  } finally {
    redis.disconnect();
  }
}

run(process.argv.slice(2), process.env, (text) => process.stdout.write(text)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof CliError) {
      if (err.message) process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (err instanceof AppError) {
      process.stderr.write(`${err.detail ?? err.title}\n`);
      process.exit(EX_USAGE);
    }
    process.stderr.write(`api-key failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
