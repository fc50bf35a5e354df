import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './embedded-redis';
import { waitForHttp } from './wait-for-http';

export interface OidcProviderOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  cookieKey: string;
  demoPassword: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** Where the provider's output goes (default: discarded except on failure). */
  stdio?: 'inherit' | 'pipe';
}

export interface OidcProvider {
  issuer: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

// Resolves to dist/dev/ from both src/dev (tests) and dist/dev (npm start).
const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'dev', 'oidc-provider-main.js');

/** Runs the local OpenID provider (oidc-provider) as a child process and waits for its discovery document. */
export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcProvider> {
  if (process.env.NODE_ENV === 'production') throw new Error('the local OpenID provider is refused with NODE_ENV=production');
  const port = await freePort(options.port ?? 0);
  const issuer = `http://localhost:${port}`;
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      OIDC_ISSUER: issuer,
      OIDC_PORT: String(port),
      OIDC_CLIENT_ID: options.clientId,
      OIDC_CLIENT_SECRET: options.clientSecret,
      OIDC_REDIRECT_URIS: options.redirectUris.join(','),
      OIDC_COOKIE_KEY: options.cookieKey,
      OIDC_DEMO_PASSWORD: options.demoPassword,
    },
    stdio: ['ignore', options.stdio ?? 'pipe', options.stdio ?? 'pipe'],
  });
  // Only the tail is kept, for the error message if it fails to start; the pipes must still be drained.
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitForHttp(`${issuer}/.well-known/openid-configuration`, { timeoutMs: 20_000 });
  } catch (err) {
    await stop();
    throw new Error(`the local OpenID provider did not start: ${(err as Error).message}\n${output.slice(-2000)}`);
  }
  return { issuer, port, process: child, stop };
}
