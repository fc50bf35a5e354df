import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors';
import { eventIndexFor, type EventIndex } from '../events/event-index';
import { EVENT_STATUSES, type PayloadRef } from '../events/event-record';
import { withRedisDeadline } from '../jobs';
import { QUEUE_NAMES, type Queues } from '../queues';
import '../stripe/webhook-errors';
import { adminAuth, logAdminAction, type AdminAuthDeps } from './admin-auth';

export interface EventsRoutesDeps extends AdminAuthDeps {
  config: AdminAuthDeps['config'] & Parameters<typeof eventIndexFor>[1];
  queues: Pick<Queues, typeof QUEUE_NAMES.stripeEvents>;
}

const ID = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'letters, digits, _ and - only');
const listQuery = z.object({
  type: z.string().regex(/^[a-z0-9_.]{1,255}$/).optional(),
  account: ID.optional(),
  objectId: ID.optional(),
  status: z.enum(EVENT_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(400).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const detail = result.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
  throw new AppError('VALIDATION_FAILED', detail);
}

async function findEvent(index: EventIndex, id: string) {
  const record = await index.get(parse(ID, id));
  if (!record) throw new AppError('EVENT_NOT_FOUND', `No event ${id} in the index (it may be older than the retention).`);
  return record;
}

/** `/api/events...`: the event index, behind admin auth. */
export function eventsRoutes(deps: EventsRoutesDeps): Router {
  const { config, redis, queues } = deps;
  const index = eventIndexFor(redis, config);
  const io = <T>(work: () => Promise<T>) => withRedisDeadline(redis, config.ENQUEUE_TIMEOUT_MS, work);
  const router = Router();
  router.use('/events', ...adminAuth(deps));

  router.get('/events', async (req, res) => {
    const query = parse(listQuery, req.query);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await io(() => index.list(query)));
  });

  router.get('/events/:id', async (req, res) => {
    const { record, payload } = await io(async () => {
      const found = await findEvent(index, req.params.id);
      return { record: found, payload: await index.payload(found.id) };
    });
    res.setHeader('Cache-Control', 'no-store');
    try {
      res.json({ ...record, payload: payload === undefined ? null : (JSON.parse(payload) as unknown) });
    } catch (err) {
      // A body JSON.stringify cannot write (nested too deep; V8 parses it but cannot write it back). The record
      // still shows, without the payload.
      if (!(err instanceof RangeError)) throw err;
      res.json({ ...record, payload: null });
    }
  });

  // Processes the stored event again under a new job id (BullMQ would ignore a second add of the first id).
  router.post('/events/:id/replay', async (req, res) => {
    const { id, jobId, replay } = await io(async () => {
      const record = await findEvent(index, req.params.id);
      const payload = await index.payload(record.id);
      if (payload === undefined) {
        throw new AppError(
          'PAYLOAD_EXPIRED',
          `${record.id} cannot be replayed: its payload is no longer stored (payloads are kept for EVENT_INDEX_RETENTION_DAYS and ` +
            'within EVENT_PAYLOAD_MAX_MB, oldest dropped first). The record and its status remain; to process the event again, ' +
            'resend it from the Stripe Dashboard (within 30 days of its creation).',
        );
      }
      const n = await index.nextReplay(record.id);
      const replayJobId = `${record.id}-replay-${n}`;
      // Status first: a worker may finish the new job before a status written after the add would land.
      // Source replay: the record now shows an operator ran it again, not what Stripe (or reconciliation) sent.
      await index.setStatus(record.id, 'queued', { jobId: replayJobId, attempts: 0, lastError: null, source: 'replay' });
      // The job refers to the stored payload (the processor reads it); it carries no copy.
      const ref: PayloadRef = { payloadOf: record.id };
      await queues[QUEUE_NAMES.stripeEvents].add(record.type, ref, { jobId: replayJobId });
      return { id: record.id, jobId: replayJobId, replay: n };
    });
    logAdminAction(req, 'event.replay', { eventId: id, jobId });
    res.status(202).location(`/api/events/${encodeURIComponent(id)}`).json({ eventId: id, jobId, replay });
  });

  return router;
}
