import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import Stripe from 'stripe';

/**
 * The reference point: Stripe's documented way to take a webhook in Express (express.raw on the route,
 * constructEvent, then queue.add with jobId = event.id), on a default ioredis connection.
 */
const secret = process.env.STRIPE_WEBHOOK_SECRET!;
const stripe = new Stripe('sk_test_plain_reference');
const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
const queue = new Queue('stripe-events', { connection, prefix: process.env.QUEUE_PREFIX ?? 'plain' });

const app = express();
app.get('/readyz', (_req, res) => {
  res.json({ ok: true });
});
app.post('/webhooks/stripe', express.raw({ type: 'application/json' }), async (req, res) => {
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(req.body as Buffer, req.get('stripe-signature') ?? '', secret);
  } catch {
    res.status(400).json({ error: 'bad signature' });
    return;
  }
  try {
    await queue.add(event.type, event, { jobId: event.id, removeOnComplete: { age: 3600 } });
    res.json({ received: true });
  } catch {
    res.status(503).json({ error: 'redis unavailable' });
  }
});
app.listen(Number(process.env.PORT), '127.0.0.1');
