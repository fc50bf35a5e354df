import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiContext } from './components/api-context';
import { Link } from './components/link';
import { useRoute } from './components/navigation';
import { createApiClient } from './logic/api-client';
import { hrefFor, sectionOf, titleFor, type Route } from './logic/routes';
import { forgetToken, readToken, saveToken } from './logic/session';
import { ApiKeysView } from './views/api-keys-view';
import { EventDetailView } from './views/event-detail-view';
import { EventsView } from './views/events-view';
import { JobDetailView } from './views/job-detail-view';
import { JobsView } from './views/jobs-view';
import { OverviewView } from './views/overview-view';
import { SignInView } from './views/sign-in-view';

function RouteView({ route }: { route: Route }) {
  switch (route.name) {
    case 'overview':
      return <OverviewView />;
    case 'events':
      return <EventsView query={route.query} />;
    case 'event':
      return <EventDetailView id={route.id} />;
    case 'jobs':
      return <JobsView queue={route.queue} state={route.state} page={route.page} />;
    case 'job':
      return <JobDetailView queue={route.queue} id={route.id} />;
    case 'api-keys':
      return <ApiKeysView />;
    case 'not-found':
      return (
        <div class="view">
          <h1>Page not found</h1>
          <p>
            Nothing lives at <span class="mono">{route.path}</span>. <Link href="/">Go to the overview</Link>.
          </p>
        </div>
      );
  }
}

const SECTIONS = [
  { id: 'overview', label: 'Overview', href: '/' },
  { id: 'events', label: 'Events', href: '/events' },
  { id: 'jobs', label: 'Jobs', href: hrefFor({ name: 'jobs', queue: 'jobs', state: 'failed', page: 1 }) },
  { id: 'api-keys', label: 'API keys', href: hrefFor({ name: 'api-keys' }) },
] as const;

export function App() {
  const [token, setToken] = useState<string | null>(() => readToken(sessionStorage));
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();
  const section = sectionOf(route);
  useEffect(() => {
    document.title = token ? titleFor(route) : 'Sign in · hooklane console';
  }, [route, token]);

  const api = useMemo(
    () =>
      createApiClient({
        fetch: window.fetch.bind(window),
        getToken: () => readToken(sessionStorage),
        onUnauthorized: () => {
          forgetToken(sessionStorage);
          setToken(null);
          setNotice('The server no longer accepts your token (it may have been rotated). Sign in again.');
        },
      }),
    [],
  );

  if (!token) {
    return (
      <SignInView
        notice={notice}
        onSignedIn={(value) => {
          saveToken(sessionStorage, value);
          setNotice(null);
          setToken(value);
        }}
      />
    );
  }

  return (
    <ApiContext.Provider value={api}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top-bar">
        <Link href="/" class="brand">
          hooklane
        </Link>
        <nav aria-label="Sections" class="top-nav">
          {SECTIONS.map((s) => (
            <Link key={s.id} href={s.href} aria-current={section === s.id ? 'page' : undefined}>
              {s.label}
            </Link>
          ))}
        </nav>
        <button
          type="button"
          class="sign-out"
          onClick={() => {
            forgetToken(sessionStorage);
            setNotice('Signed out. The token was removed from this tab.');
            setToken(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <RouteView route={route} />
      </main>
    </ApiContext.Provider>
  );
}
