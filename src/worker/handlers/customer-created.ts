import { defineHandler, requireString } from './handler-registry';

/** A new customer: note who it is (the place to create the matching user in another system). */
export const customerCreated = defineHandler('customer.created', async (event, ctx) => {
  const customer = event.data.object;
  const id = requireString(customer.id, 'data.object.id', 'cus_');
  await ctx.log(`customer ${id} created${customer.email ? ` for ${customer.email}` : ''}`);
  return { customer: id, email: customer.email ?? null, livemode: event.livemode };
});
