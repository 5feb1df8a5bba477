// Outgoing webhooks: management routes and the dispatcher that delivers committed changes.
export {
  type DeliveryRecord,
  USER_AGENT,
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookPayload,
} from './dispatcher.js';
export { type WebhookView, webhookRoutes } from './routes.js';
export { signBody, verifySignature } from './signature.js';
