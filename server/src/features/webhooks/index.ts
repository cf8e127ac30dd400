/**
 * Event webhooks, and the one signed, retried, logged outbox delivery that alert notification
 * channels share (delivery/): subscriptions per organization, the event publisher the
 * composition root hands to the features where events happen, and their routers.
 */
export { createDelivery, transportOptions, sendAndRecord, checkedAddress, parseChannelUrl, type Delivery, type Dispatcher } from './delivery/index.ts';
export type { Destination, DestinationSource, Message, SendResult, TransportOptions } from './delivery/index.ts';
export { createEventPublisher, type EventBody } from './publisher.ts';
export { subscriptionSource } from './subscription-source.ts';
export { createWebhooksRouter } from './webhooks.router.ts';
export { createWebhooksAdminRouter } from './admin.router.ts';
