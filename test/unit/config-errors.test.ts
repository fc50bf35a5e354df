import { ConfigError, formatConfigError, loadConfig } from '../../src/config';

const valid = { REDIS_URL: 'redis://127.0.0.1:6379' };

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('a bad configuration, as the developer reads it', () => {
  test('PORT=abc is one error, about PORT, saying what it expects (not "received NaN")', () => {
    const { issues } = errorOf({ ...valid, PORT: 'abc' });
    expect(issues).toEqual([expect.stringMatching(/^PORT: must be a whole number from 0 to 65535/)]);
  });

  test('a key with several problems is reported once', () => {
    const { issues } = errorOf({ ...valid, STRIPE_WEBHOOK_SECRET: 'whsec_ok,bad,worse' });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^STRIPE_WEBHOOK_SECRET: /);
  });

  test('on a terminal: plain lines, one per key, pointing to the docs; no JSON, no escaped newlines', () => {
    const text = formatConfigError(errorOf({ ...valid, PORT: 'abc', WORKER_SANDBOX: 'fork' }), { pretty: true });
    expect(() => JSON.parse(text)).toThrow();
    expect(text).not.toContain('\\n');
    expect(text.split('\n').filter((l) => /^\s+(PORT|WORKER_SANDBOX): /.test(l))).toHaveLength(2);
    expect(text).toContain('docs/configuration.md');
  });

  test('for a log collector (not a terminal, or production): one JSON line with every issue', () => {
    const text = formatConfigError(errorOf({ ...valid, PORT: 'abc' }), { pretty: false });
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(text)).toMatchObject({ level: 'fatal', issues: [expect.stringMatching(/^PORT: /)] });
  });

  test('never repeats a secret value in the message', () => {
    const text = formatConfigError(errorOf({ ...valid, ADMIN_TOKEN: 'short-secret' }), { pretty: true });
    expect(text).toContain('ADMIN_TOKEN');
    expect(text).not.toContain('short-secret');
  });
});
