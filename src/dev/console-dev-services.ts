import type { DevService, DevServiceContext } from './dev-services';
import { loadDevSecrets } from './dev-secrets';

/**
 * The operator console needs ADMIN_TOKEN; without one every admin route is off. Like the other dev
 * secrets, a made-up token is kept in .data/ (so an open console tab keeps working across restarts)
 * and printed with the console's URL.
 */
export async function startConsoleDevServices({ env, dataDir, publicUrl }: DevServiceContext): Promise<DevService | undefined> {
  if (env.NODE_ENV === 'production') throw new Error('npm start\'s made-up admin token is refused with NODE_ENV=production');
  if (env.ADMIN_TOKEN) {
    return { name: 'console', env: {}, banner: [`console: ${publicUrl} (token: your ADMIN_TOKEN)`], stop: async () => {} };
  }
  const { adminToken } = loadDevSecrets(dataDir);
  return {
    name: 'console',
    env: { ADMIN_TOKEN: adminToken },
    banner: [`console: ${publicUrl} (token ${adminToken})`],
    stop: async () => {},
  };
}
