import { useEffect, useState } from 'preact/hooks';
import { parseRoute, type Route } from '../logic/routes';

const NAVIGATE_EVENT = 'hooklane:navigate';

export function navigate(href: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export function currentRoute(): Route {
  return parseRoute(location.pathname, location.search);
}

/** The route of the address bar, kept in step with back/forward and in-page navigation. */
export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(currentRoute);
  useEffect(() => {
    const update = () => {
      setRoute(currentRoute());
      window.scrollTo(0, 0);
      // Move focus to the new content, as a full page load would, so keyboard and screen-reader users
      // start from the top of the page they asked for.
      document.getElementById('main')?.focus({ preventScroll: true });
    };
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return route;
}
