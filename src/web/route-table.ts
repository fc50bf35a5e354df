import type { Express } from 'express';

/**
 * What Express 5 (router 2) keeps about each layer of a stack. Not in its public types; read-only here.
 * `rawPath` is the path the layer was declared with, `match` what Express itself matches a request path with.
 */
interface StackLayer {
  rawPath?: unknown;
  match(path: string): { path: string } | false;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: StackLayer[] };
}

export interface RouteEntry {
  method: string;
  /** As declared, mount paths joined: `/api/jobs/:id`. */
  path: string;
}

function stackOf(app: Express): StackLayer[] {
  return ((app as unknown as { router: { stack: StackLayer[] } }).router?.stack ?? []) as StackLayer[];
}

function methodsOf(route: NonNullable<StackLayer['route']>): string[] {
  return Object.keys(route.methods)
    .filter((m) => m !== '_all' && route.methods[m])
    .map((m) => m.toUpperCase());
}

/** A route's full path: `/api` + `/jobs`; a router mounted at `/` adds nothing. */
function join(prefix: string, path: string): string {
  if (path === '/' || path === '') return prefix || '/';
  return `${prefix}${path}`;
}

/**
 * Every route of the app with its method, walking mounted routers: not static files, plain middleware,
 * or routes declared with a RegExp (fallbacks such as the console's SPA route).
 */
export function listRoutes(app: Express): RouteEntry[] {
  const out: RouteEntry[] = [];
  const walk = (stack: StackLayer[], prefix: string) => {
    for (const layer of stack) {
      const paths = (Array.isArray(layer.rawPath) ? layer.rawPath : [layer.rawPath]).filter((p): p is string => typeof p === 'string');
      if (layer.route) {
        const routePaths = (Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]).filter((p): p is string => typeof p === 'string');
        for (const path of routePaths) for (const method of methodsOf(layer.route)) out.push({ method, path: join(prefix, path) });
      } else if (layer.handle?.stack) {
        for (const path of paths.length ? paths : ['/']) walk(layer.handle.stack, path === '/' ? prefix : `${prefix}${path}`);
      }
    }
  };
  walk(stackOf(app), '');
  return out;
}

/** The methods the app has routes for at `path`, matched the way Express matches (mounts, parameters). */
export function methodsForPath(app: Express, path: string): Set<string> {
  const found = new Set<string>();
  const walk = (stack: StackLayer[], rest: string) => {
    for (const layer of stack) {
      const match = layer.match(rest);
      if (!match) continue;
      // A route declared with a RegExp is a fallback (the console's SPA route), not a known path.
      if (layer.route) {
        if (typeof layer.route.path === 'string') for (const method of methodsOf(layer.route)) found.add(method);
      }
      else if (layer.handle?.stack) walk(layer.handle.stack, rest.slice(match.path.length) || '/');
    }
  };
  walk(stackOf(app), path);
  return found;
}
