import { defineHandler, malformed, requireString } from './handler-registry';

/** A payment went through: record what was received (the place to fulfil an order). */
export const paymentIntentSucceeded = defineHandler('payment_intent.succeeded', async (event, ctx) => {
  const intent = event.data.object;
  const id = requireString(intent.id, 'data.object.id', 'pi_');
  if (!Number.isInteger(intent.amount_received) || intent.amount_received < 0) {
    throw malformed('data.object.amount_received must be a non-negative integer');
  }
  const currency = requireString(intent.currency, 'data.object.currency');
  await ctx.log(`payment ${id} received ${intent.amount_received} ${currency}`);
  ctx.logger.info({ paymentIntent: id, amountReceived: intent.amount_received, currency }, 'payment succeeded');
  return { paymentIntent: id, amountReceived: intent.amount_received, currency, customer: intent.customer ?? null };
});
