import { emptyEventQuery, hrefFor, parseRoute, sectionOf, titleFor, type Route } from '../../../src/frontend/logic/routes';

describe('console routes', () => {
  it.each<[string, string, Route]>([
    ['/', '', { name: 'overview' }],
    ['/events', '?objectId=pi_123&status=failed', { name: 'events', query: { ...emptyEventQuery(), objectId: 'pi_123', status: 'failed' } }],
    ['/events/evt_1', '', { name: 'event', id: 'evt_1' }],
    ['/jobs', '', { name: 'jobs', queue: 'jobs', state: 'failed', page: 1 }],
    ['/jobs/stripe-events', '?state=delayed&page=3', { name: 'jobs', queue: 'stripe-events', state: 'delayed', page: 3 }],
    ['/jobs/jobs/job/a%2Fb', '', { name: 'job', queue: 'jobs', id: 'a/b' }],
    ['/keys', '', { name: 'api-keys' }],
    ['/nope/deeper', '', { name: 'not-found', path: '/nope/deeper' }],
  ])('parses %s%s', (path, search, route) => {
    expect(parseRoute(path, search)).toEqual(route);
  });

  it('falls back to sane values for a bad state or page', () => {
    expect(parseRoute('/jobs/jobs', '?state=bogus&page=-2')).toEqual({ name: 'jobs', queue: 'jobs', state: 'failed', page: 1 });
  });

  it('builds hrefs that parse back to the same route', () => {
    const routes: Route[] = [
      { name: 'overview' },
      { name: 'events', query: { ...emptyEventQuery(), type: 'charge.failed', cursor: 'c1' } },
      { name: 'event', id: 'evt_ü/1' },
      { name: 'jobs', queue: 'stripe-events', state: 'completed', page: 2 },
      { name: 'job', queue: 'jobs', id: 'idem-abc' },
      { name: 'api-keys' },
    ];
    for (const route of routes) {
      const url = new URL(hrefFor(route), 'http://console.test');
      expect(parseRoute(url.pathname, url.search)).toEqual(route);
    }
  });

  it('knows which section a route belongs to', () => {
    expect(sectionOf({ name: 'job', queue: 'jobs', id: '1' })).toBe('jobs');
    expect(sectionOf({ name: 'event', id: 'e' })).toBe('events');
    expect(sectionOf({ name: 'not-found', path: '/x' })).toBeNull();
  });

  it('titles each page after what it shows', () => {
    expect(titleFor({ name: 'jobs', queue: 'jobs', state: 'failed', page: 1 })).toBe('jobs · failed jobs · hooklane console');
    expect(titleFor({ name: 'event', id: 'evt_1' })).toBe('Event evt_1 · hooklane console');
  });
});
