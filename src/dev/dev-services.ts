import { startConsoleDevServices } from './console-dev-services';
import { startOAuthDevServices, startStripeDevServices } from './stripe-app-dev-services';

/**
 * Local stand-ins for outside systems that `npm start` runs when their config is absent
 * (never in production). Each returns the env it adds for the web and worker processes.
 */
export interface DevService {
  name: string;
  env: Record<string, string>;
  /** Lines printed in the start-up banner. */
  banner: string[];
  stop(): Promise<void>;
}

export interface DevServiceContext {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** The URL the web process will listen on, e.g. http://localhost:3000 */
  publicUrl: string;
}

export type DevServiceStarter = (context: DevServiceContext) => Promise<DevService | undefined>;

/** Starters run in order; each sees the env of those before it. */
export const DEV_SERVICES: DevServiceStarter[] = [];

// Stripe API emulator + dev secrets, then the local OpenID provider (issue 3).
DEV_SERVICES.push(startStripeDevServices, startOAuthDevServices);
// The console's admin token (issue 20); its banner line comes last, just above "hooklane is up".
DEV_SERVICES.push(startConsoleDevServices);
