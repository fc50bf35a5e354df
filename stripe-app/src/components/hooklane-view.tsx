import type { ReactNode } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { Box, ContextView, Link } from '@stripe/ui-extension-sdk/ui';
import type { UserInfo } from '../backend/api-types';
import { useBackend, type Backend } from '../backend/use-backend';
import { useConnection, type Connection } from '../connection/use-connection';
import { ConnectedUser } from './connected-user';
import { FailureBanner } from './failure-banner';
import { Loading } from './loading';
import { SignInPanel } from './sign-in-panel';

interface HooklaneViewProps {
  context: ExtensionContextValue;
  title: string;
  /** What a view adds below the connected user once signed in. */
  signedInContent?: (backend: Backend, user: UserInfo) => ReactNode;
}

/** The frame every hooklane view shares: connection state, sign in, sign out. */
export function HooklaneView({ context, title, signedInContent }: HooklaneViewProps) {
  const backend = useBackend(context);
  const connection = useConnection(backend);
  const { state } = connection;
  return (
    <ContextView
      title={title}
      footerContent={state.name === 'signed-in'
        ? <Link onPress={connection.signOut} disabled={state.signingOut}>Sign out</Link>
        : undefined}
    >
      <Box css={{ stack: 'y', gap: 'large' }}>
        <ConnectionBody connection={connection} />
        {state.name === 'signed-in' && signedInContent?.(backend, state.user)}
      </Box>
    </ContextView>
  );
}

function ConnectionBody({ connection }: { connection: Connection }) {
  const { state } = connection;
  switch (state.name) {
    case 'loading':
      return <Loading label="Checking your hooklane connection…" />;
    case 'signed-out':
      return (
        <SignInPanel
          signInUrl={state.signInUrl}
          waitingForSignIn={state.waitingForSignIn}
          notice={state.notice}
          onSignIn={connection.startSignIn}
        />
      );
    case 'signed-in':
      return <ConnectedUser user={state.user} />;
    case 'error':
      return <FailureBanner failure={state.failure} onRetry={connection.refresh} />;
  }
}
