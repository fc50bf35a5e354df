/** The local provider's accounts: a demo user, and one whose email is not verified (for tests). */
export interface DevUser {
  accountId: string;
  email: string;
  emailVerified: boolean;
  name: string;
}

export const DEV_USERS: DevUser[] = [
  { accountId: 'demo-user', email: 'demo@example.com', emailVerified: true, name: 'Demo User' },
  { accountId: 'unverified-user', email: 'unverified@example.com', emailVerified: false, name: 'Unverified User' },
];

export function findDevUser(accountId: string): DevUser | undefined {
  return DEV_USERS.find((u) => u.accountId === accountId);
}

export function findDevUserByEmail(email: string): DevUser | undefined {
  return DEV_USERS.find((u) => u.email === email.trim().toLowerCase());
}
