/** Test helpers other packages use (`@ninjait/server/testing`): a server on real engines, scratch databases, Redis key cleanup. */
export { startHarness, fakeInventory, fakeSampleRecord, codeOf, type Client, type Harness } from './harness.ts';
export { createScratchDatabase, relationalEngines, cacheEngines } from './databases.ts';
export { dropRedisKeys } from './redis-keys.ts';
export { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from './smtp-receiver.ts';
export { startWebhookReceiver, type ReceivedPost, type WebhookReceiver } from './webhook-receiver.ts';
