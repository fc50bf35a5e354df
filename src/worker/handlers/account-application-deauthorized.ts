import { defineHandler, requireString } from './handler-registry';

/**
 * The account uninstalled the Stripe App (or disconnected it): its users' OAuth tokens must not outlive
 * that, so every token stored for the account in the Secret Store is deleted. Deleting is idempotent,
 * so a retry after a partial failure finishes the job.
 */
export const accountApplicationDeauthorized = defineHandler('account.application.deauthorized', async (event, ctx) => {
  const account = requireString(event.account, 'account (the deauthorizing account)', 'acct_');
  const { users, accountGone } = await ctx.services.deleteAccountSecrets(account);
  if (accountGone) {
    // The uninstall already took the platform's access, and the secrets with it: done, not a failure.
    await ctx.log(`${account} is no longer reachable (app uninstalled); its ${users} user(s)' tokens went with it`);
    ctx.logger.info({ accountId: account, users }, 'account deauthorized; Stripe no longer grants access to it, nothing left to delete');
    return { account, usersWithTokensDeleted: users, accountGone };
  }
  await ctx.log(`deleted stored tokens of ${users} user(s) of ${account}`);
  ctx.logger.info({ accountId: account, users }, 'account deauthorized; tokens deleted');
  return { account, usersWithTokensDeleted: users, accountGone };
});
