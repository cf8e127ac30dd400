import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookEventType } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { checkedAddress, parseChannelUrl, sendAndRecord, type SendResult, type TransportOptions } from './delivery/index.ts';
import type { EventBody } from './publisher.ts';
import { subscriptionSource } from './subscription-source.ts';
import { createSubscription, enqueueResend, getSubscription, type Subscription } from './subscriptions-repository.ts';

/**
 * Creates a subscription after checking its URL: http(s), no credentials, a host that resolves
 * only to addresses a webhook may reach (checked again at every send). The signing secret is
 * returned only here.
 */
export async function createCheckedSubscription(
  db: SqlExecutor, organizationId: string, input: { name: string; url: string; eventTypes: readonly WebhookEventType[]; enabled: boolean },
  options: { allowPrivate: boolean; createdBy: string | null },
): Promise<{ subscription: Subscription; signingSecret: string }> {
  await checkedAddress(parseChannelUrl(input.url), options.allowPrivate);
  const signingSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  const subscription = await createSubscription(db, organizationId, { ...input, signingSecret, createdBy: options.createdBy });
  return { subscription, signingSecret };
}

/** Sends a `webhook.test` event now and logs it like any delivery; the answer says what happened. */
export async function sendTestEvent(db: SqlExecutor, organizationId: string, subscriptionId: string, transport: TransportOptions): Promise<SendResult & { eventId: string }> {
  await getSubscription(db, organizationId, subscriptionId);
  const [destination] = await subscriptionSource.load(db, [subscriptionId]);
  const eventId = randomUUID();
  const body: EventBody = { id: eventId, type: 'webhook.test', organizationId, occurredAt: new Date().toISOString(), data: { text: `Test event from NinjaIT for webhook "${destination!.name}"` } };
  const result = await sendAndRecord(db, subscriptionSource, destination!, subscriptionSource.message(body), { key: `test:${eventId}`, eventId, eventType: body.type }, transport,
    { outboxId: 0, attempt: 1, messages: 1, digest: false });
  return { ...result, eventId };
}

/** Queues the event for this subscription again: same event id and body, a new delivery key. */
export async function resendEvent(db: SqlExecutor, organizationId: string, subscriptionId: string, eventId: string): Promise<{ outboxId: number }> {
  await getSubscription(db, organizationId, subscriptionId);
  return { outboxId: await enqueueResend(db, organizationId, subscriptionId, eventId, `resend:${eventId}:${subscriptionId}:${randomUUID()}`) };
}
