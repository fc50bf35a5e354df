import { accountApplicationDeauthorized } from './account-application-deauthorized';
import { customerCreated } from './customer-created';
import { HandlerRegistry } from './handler-registry';
import { eventGenerationFailureResolved } from './health-event-generation-failure';
import { paymentIntentSucceeded } from './payment-intent-succeeded';

/** Every Stripe event handler. To add one: a file with `defineHandler(type, ...)`, then list it here. */
export const STRIPE_EVENT_HANDLERS = new HandlerRegistry([paymentIntentSucceeded, customerCreated, accountApplicationDeauthorized, eventGenerationFailureResolved]);
