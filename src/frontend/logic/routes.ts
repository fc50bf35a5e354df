import { JOB_STATES, type JobState } from '../../admin/admin-types';

/** Client-side routes. The web process (and CloudFront) answer index.html for these paths. */
export type Route =
  | { name: 'overview' }
  | { name: 'events'; query: EventQuery }
  | { name: 'event'; id: string }
  | { name: 'jobs'; queue: string; state: JobState; page: number }
  | { name: 'job'; queue: string; id: string }
  | { name: 'api-keys' }
  | { name: 'not-found'; path: string };

export interface EventQuery {
  type: string;
  account: string;
  objectId: string;
  status: string;
  cursor: string;
}

export const DEFAULT_QUEUE = 'jobs';
export const EVENT_FILTERS = ['type', 'account', 'objectId', 'status'] as const;

export function emptyEventQuery(): EventQuery {
  return { type: '', account: '', objectId: '', status: '', cursor: '' };
}

const isJobState = (value: string | null): value is JobState =>
  value !== null && (JOB_STATES as readonly string[]).includes(value);

function eventQueryFrom(params: URLSearchParams): EventQuery {
  const get = (name: string) => params.get(name)?.trim() ?? '';
  return { type: get('type'), account: get('account'), objectId: get('objectId'), status: get('status'), cursor: get('cursor') };
}

function segmentsOf(pathname: string): string[] {
  return pathname
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

export function parseRoute(pathname: string, search = ''): Route {
  const params = new URLSearchParams(search);
  const [first, second, third, fourth] = segmentsOf(pathname);
  const count = segmentsOf(pathname).length;
  if (count === 0) return { name: 'overview' };
  if (first === 'events' && count === 1) return { name: 'events', query: eventQueryFrom(params) };
  if (first === 'events' && count === 2 && second) return { name: 'event', id: second };
  if (first === 'jobs' && count <= 2) {
    const state = params.get('state');
    const page = Number(params.get('page'));
    return {
      name: 'jobs',
      queue: second ?? DEFAULT_QUEUE,
      state: isJobState(state) ? state : 'failed',
      page: Number.isInteger(page) && page > 0 ? page : 1,
    };
  }
  if (first === 'jobs' && count === 4 && second && third === 'job' && fourth) return { name: 'job', queue: second, id: fourth };
  // Not /api-keys: /api... paths belong to the web tier at CloudFront.
  if (first === 'keys' && count === 1) return { name: 'api-keys' };
  return { name: 'not-found', path: pathname };
}

const enc = encodeURIComponent;

export function hrefFor(route: Route): string {
  switch (route.name) {
    case 'overview':
      return '/';
    case 'events': {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(route.query)) if (value) params.set(key, value);
      const search = params.toString();
      return search ? `/events?${search}` : '/events';
    }
    case 'event':
      return `/events/${enc(route.id)}`;
    case 'jobs': {
      const page = route.page > 1 ? `&page=${route.page}` : '';
      return `/jobs/${enc(route.queue)}?state=${route.state}${page}`;
    }
    case 'job':
      return `/jobs/${enc(route.queue)}/job/${enc(route.id)}`;
    case 'api-keys':
      return '/keys';
    case 'not-found':
      return route.path;
  }
}

/** Which top-level section a route belongs to, for the navigation's aria-current. */
export function sectionOf(route: Route): 'overview' | 'events' | 'jobs' | 'api-keys' | null {
  if (route.name === 'overview') return 'overview';
  if (route.name === 'api-keys') return 'api-keys';
  if (route.name === 'events' || route.name === 'event') return 'events';
  if (route.name === 'jobs' || route.name === 'job') return 'jobs';
  return null;
}

/** The document title for a route: screen readers announce it, and browser history reads well. */
export function titleFor(route: Route): string {
  const page = (() => {
    switch (route.name) {
      case 'overview':
        return 'Overview';
      case 'events':
        return 'Events';
      case 'event':
        return `Event ${route.id}`;
      case 'jobs':
        return `${route.queue} · ${route.state} jobs`;
      case 'job':
        return `Job ${route.id} · ${route.queue}`;
      case 'api-keys':
        return 'API keys';
      case 'not-found':
        return 'Page not found';
    }
  })();
  return `${page} · hooklane console`;
}
