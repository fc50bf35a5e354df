import { Banner, Box, Button } from '@stripe/ui-extension-sdk/ui';

interface SignInPanelProps {
  /** The signed sign-in page; null while it is being signed. */
  signInUrl: string | null;
  waitingForSignIn: boolean;
  /** Why an earlier connection no longer works, if it was one. */
  notice?: string;
  onSignIn: () => void;
}

export function SignInPanel({ signInUrl, waitingForSignIn, notice, onSignIn }: SignInPanelProps) {
  return (
    <Box css={{ stack: 'y', gap: 'medium' }}>
      {notice !== undefined && <Banner type="caution" title="Sign in again" description={notice} />}
      <Box>Connect your account to let hooklane act for you and to see how it processes this account&apos;s events.</Box>
      {/* A link in a new tab, because the provider's pages cannot load inside the Dashboard. */}
      <Button
        type="primary"
        href={signInUrl ?? undefined}
        target="_blank"
        disabled={signInUrl === null}
        onPress={onSignIn}
      >
        Sign in
      </Button>
      {waitingForSignIn && (
        <Box css={{ color: 'secondary' }}>Finish signing in in the new tab; this view updates by itself.</Box>
      )}
    </Box>
  );
}
