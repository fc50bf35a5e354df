import { useCallback, useEffect, useState } from 'react';
import { isUserInfo, type UserInfo } from '../backend/api-types';
import type { BackendFailure, BackendResult } from '../backend/backend-client';
import type { Backend } from '../backend/use-backend';

export type ConnectionState =
  | { name: 'loading' }
  | { name: 'signed-out'; signInUrl: string | null; waitingForSignIn: boolean; notice?: string }
  | { name: 'signed-in'; user: UserInfo; signingOut: boolean }
  | { name: 'error'; failure: BackendFailure };

export interface Connection {
  state: ConnectionState;
  /** Asks the back-end again who is connected. */
  refresh: () => void;
  /** The sign-in page has opened in a new tab: watch for the connection to appear. */
  startSignIn: () => void;
  signOut: () => void;
}

// The back-end accepts a Dashboard signature for 5 minutes (stripe-node's default
// tolerance), so the signed state in the sign-in link is renewed before that.
export const SIGN_IN_URL_RENEW_MS = 4 * 60_000;
// Sign-in happens in another tab that cannot message this view; polling is how it learns.
export const SIGN_IN_POLL_MS = 3_000;
const SIGN_IN_POLL_LIMIT = 200; // about 10 minutes, then the user can press Sign in again

const USERINFO = '/api/oauth/userinfo';
const NOT_CONNECTED = 'OAUTH_NOT_CONNECTED';

/** The third-party connection of the Dashboard user: who is signed in, sign in, sign out. */
export function useConnection(backend: Backend): Connection {
  const [state, setState] = useState<ConnectionState>({ name: 'loading' });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setState({ name: 'loading' });
    void backend.call(USERINFO, { read: isUserInfo, signal: controller.signal }).then((result) => {
      if (!controller.signal.aborted) setState(stateAfterUserInfo(result));
    });
    return () => controller.abort();
  }, [backend, generation]);

  const signedOut = state.name === 'signed-out';
  useEffect(() => (signedOut ? keepSignInUrlFresh(backend, setState) : undefined), [backend, signedOut]);

  const waiting = state.name === 'signed-out' && state.waitingForSignIn;
  useEffect(() => (waiting ? pollUntilSignedIn(backend, setState) : undefined), [backend, waiting]);

  const refresh = useCallback(() => setGeneration((g) => g + 1), []);
  const startSignIn = useCallback(() => {
    setState((s) => (s.name === 'signed-out' ? { ...s, waitingForSignIn: true } : s));
  }, []);
  const signOut = useCallback(() => {
    setState((s) => (s.name === 'signed-in' ? { ...s, signingOut: true } : s));
    void backend.call('/api/oauth/logout').then((result) => {
      setState(result.ok ? signedOutState() : { name: 'error', failure: result.failure });
    });
  }, [backend]);

  return { state, refresh, startSignIn, signOut };
}

type SetState = (update: (previous: ConnectionState) => ConnectionState) => void;

function stateAfterUserInfo(result: BackendResult<UserInfo>): ConnectionState {
  if (result.ok) return { name: 'signed-in', user: result.data, signingOut: false };
  if (result.failure.kind === 'signed-out') return signedOutState(noticeFor(result.failure));
  return { name: 'error', failure: result.failure };
}

function signedOutState(notice?: string): ConnectionState {
  return { name: 'signed-out', signInUrl: null, waitingForSignIn: false, notice };
}

// "Not connected" is the normal signed-out case; any other 401 (email not verified, token refused
// by the provider) means an earlier connection stopped working, which the user should be told.
function noticeFor(failure: BackendFailure): string | undefined {
  const code = failure.problem?.code;
  return code !== undefined && code !== NOT_CONNECTED ? failure.message : undefined;
}

function keepSignInUrlFresh(backend: Backend, setState: SetState): () => void {
  let live = true;
  const renew = () => {
    void backend.signInUrl().then((result) => {
      if (!live) return;
      setState((s) => {
        if (s.name !== 'signed-out') return s;
        return result.ok ? { ...s, signInUrl: result.data } : { name: 'error', failure: result.failure };
      });
    });
  };
  renew();
  const timer = setInterval(renew, SIGN_IN_URL_RENEW_MS);
  return () => {
    live = false;
    clearInterval(timer);
  };
}

function pollUntilSignedIn(backend: Backend, setState: SetState): () => void {
  let live = true;
  let polls = 0;
  let inFlight = false;
  const timer = setInterval(() => {
    if (inFlight) return; // a slow answer is still pending; don't pile requests up
    polls += 1;
    if (polls > SIGN_IN_POLL_LIMIT) {
      clearInterval(timer);
      setState((s) => (s.name === 'signed-out' ? { ...s, waitingForSignIn: false } : s));
      return;
    }
    inFlight = true;
    void backend.call(USERINFO, { read: isUserInfo }).then((result) => {
      inFlight = false;
      // Anything but success means "not yet": the user may still be on the provider's page.
      if (live && result.ok) setState(() => ({ name: 'signed-in', user: result.data, signingOut: false }));
    });
  }, SIGN_IN_POLL_MS);
  return () => {
    live = false;
    clearInterval(timer);
  };
}
