import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import { CONSOLE_CSP_DIRECTIVES } from '../console-csp';

/** Where `vite build` writes the console; the same path from src/web (tests) and dist/web (the build). */
export const CONSOLE_DIR = path.resolve(__dirname, '..', '..', 'dist', 'public');

/** Paths the SPA never owns: a miss there is a real 404, not a console route (/dev exists only under `npm start`). */
const NOT_CONSOLE = /^\/(api|webhooks|dev)(\/|$)/;

/** A console route is an extension-less path; a missing /assets/x.js must 404, not come back as HTML. */
function isConsoleRoute(urlPath: string): boolean {
  if (NOT_CONSOLE.test(urlPath)) return false;
  const last = urlPath.slice(urlPath.lastIndexOf('/') + 1);
  return !last.includes('.');
}

/**
 * Serves the built console at `/` with a fallback to index.html for its client-side routes. Hashed assets
 * are cached for a year; index.html is revalidated so a deploy shows at once.
 */
export function consoleStatic(dir: string = CONSOLE_DIR): Router {
  const router = Router();
  const indexFile = path.join(dir, 'index.html');
  if (!existsSync(indexFile)) return router;

  const csp: RequestHandler = helmet.contentSecurityPolicy({ useDefaults: false, directives: CONSOLE_CSP_DIRECTIVES });
  router.use((req, res, next) => (NOT_CONSOLE.test(req.path) ? next('router') : csp(req, res, next)));
  router.use(
    express.static(dir, {
      index: false,
      setHeaders: (res, file) => {
        const hashed = file.startsWith(path.join(dir, 'assets') + path.sep);
        res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  router.get(/.*/, (req, res, next) => {
    if (!isConsoleRoute(req.path) || !req.accepts('html')) {
      next();
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(indexFile);
  });
  return router;
}
