import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, configSchema, loadConfig } from '../../src/config';

const valid = { REDIS_URL: 'redis://127.0.0.1:6379' };

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  test('fills defaults and returns a frozen object', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({ PORT: 3000, NODE_ENV: 'development', WORKER_SANDBOX: 'thread', BODY_LIMIT: '1mb' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('a missing REDIS_URL is named with what it expects', () => {
    expect(issuesOf({})).toEqual([expect.stringMatching(/^REDIS_URL: is required/)]);
  });

  test('every bad key is named at once', () => {
    const issues = issuesOf({ ...valid, PORT: 'eighty', WORKER_SANDBOX: 'fork', BODY_LIMIT: 'huge' });
    expect(issues.map((i) => i.split(':')[0]).sort()).toEqual(['BODY_LIMIT', 'PORT', 'WORKER_SANDBOX']);
  });

  test('the dedup window is 96 hours unless set, and less than 72 (Stripe retries for 3 days) is refused', () => {
    expect(loadConfig(valid).DEDUP_WINDOW_HOURS).toBe(96);
    expect(loadConfig({ ...valid, DEDUP_WINDOW_HOURS: '72' }).DEDUP_WINDOW_HOURS).toBe(72);
    expect(issuesOf({ ...valid, DEDUP_WINDOW_HOURS: '71' })).toEqual([expect.stringMatching(/^DEDUP_WINDOW_HOURS: must be a whole number from 72 to 8760/)]);
    expect(issuesOf({ ...valid, DEDUP_WINDOW_HOURS: '24' })).toHaveLength(1);
  });

  test('a non-redis URL is refused', () => {
    expect(issuesOf({ REDIS_URL: 'http://example' })).toEqual([expect.stringContaining('REDIS_URL: must start with redis://')]);
  });

  test('production requires an admin token', () => {
    expect(issuesOf({ ...valid, NODE_ENV: 'production' }).join('\n')).toContain('ADMIN_TOKEN');
  });

  test('the dev routes are off unless asked for, whatever NODE_ENV (unset means development)', () => {
    expect(loadConfig(valid).DEV_ROUTES).toBe(false);
    expect(loadConfig({ ...valid, DEV_ROUTES: 'true' }).DEV_ROUTES).toBe(true);
  });

  test('production refuses DEV_ROUTES', () => {
    const production = {
      ...valid,
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'a'.repeat(32),
      STRIPE_WEBHOOK_SECRET: 'whsec_test',
      DEV_ROUTES: 'true',
    };
    expect(issuesOf(production)).toEqual([expect.stringMatching(/^DEV_ROUTES: must not be set when NODE_ENV=production/)]);
  });

  test('empty values count as unset, so defaults apply', () => {
    expect(loadConfig({ ...valid, PORT: '' }).PORT).toBe(3000);
  });
});

describe('.env.example', () => {
  test('documents every key of the schema, and no key the schema does not know', () => {
    const text = readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(configSchema.shape).sort());
  });
});
