import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { AppError } from '../errors';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';
import { logAdminAction } from './admin-auth';
import { apiKeyStoreFor } from './api-key-auth';
import { jsonObjectBody } from './json-body';

export interface ApiKeyAdminDeps {
  config: Pick<Config, 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS'>;
  redis: Redis;
  logger: Logger;
}

/**
 * `/api/admin/api-keys`: create (the key is in this one answer and nowhere else, ever), list (no secrets)
 * and revoke API keys of the jobs API. Mounted behind adminAuth; creation and revocation are audit-logged.
 */
export function apiKeyAdminRoutes(deps: ApiKeyAdminDeps): Router {
  const store = apiKeyStoreFor(deps);
  const write = <T>(work: () => Promise<T>) => withRedisDeadline(deps.redis, deps.config.ENQUEUE_TIMEOUT_MS, work);
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json({ keys: await write(() => store.list()) });
  });

  router.post('/', ...jsonObjectBody('16kb'), async (req, res) => {
    const body = req.body as { name?: unknown; scopes?: unknown };
    const created = await write(() => store.create(body));
    logAdminAction(req, 'api-key.create', { apiKeyId: created.key.id, name: created.key.name, scopes: created.key.scopes });
    res.status(201).location(`/api/admin/api-keys/${created.key.id}`).json(created);
  });

  router.delete('/:id', async (req, res) => {
    const id = req.params.id;
    try {
      const key = await write(() => store.revokeOrThrow(id));
      logAdminAction(req, 'api-key.revoke', { apiKeyId: key.id, name: key.name, outcome: 'done' });
      res.json({ key });
    } catch (err) {
      logAdminAction(req, 'api-key.revoke', { apiKeyId: id, outcome: 'refused', code: (err as AppError).code ?? 'INTERNAL' });
      throw err;
    }
  });

  return router;
}
