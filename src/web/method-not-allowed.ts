import type { Express, RequestHandler } from 'express';
import { AppError } from '../errors';
import { methodsForPath } from './route-table';

/**
 * For a request no route answered: when the path has routes for other methods, 405 METHOD_NOT_ALLOWED
 * with `Allow` (RFC 9110 15.5.6) instead of a 404 that says the path does not exist. Looked up in the
 * app's own router stack, so every route, present and future, is covered.
 */
export function methodNotAllowed(app: Express): RequestHandler {
  return (req, _res, next) => {
    const methods = methodsForPath(app, req.path);
    if (methods.size === 0 || methods.has(req.method)) {
      next();
      return;
    }
    // Express answers HEAD with the GET route.
    if (methods.has('GET')) methods.add('HEAD');
    const allow = [...methods].sort().join(', ');
    next(new AppError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow}.`, { headers: { Allow: allow } }));
  };
}
