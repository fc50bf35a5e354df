import { Router } from 'express';
import openapiDocument from './openapi.json';

/**
 * GET /api/openapi.json: the OpenAPI 3.1 description of every public route, for API consumers behind the
 * load balancer to generate clients from. The document lives in the repo (src/web/openapi.json); a test
 * fails when the app has a route the document lacks, or a response the document does not describe.
 */
export function openapiRoute(): Router {
  const router = Router();
  const body = JSON.stringify(openapiDocument);
  router.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('json').send(body);
  });
  return router;
}
