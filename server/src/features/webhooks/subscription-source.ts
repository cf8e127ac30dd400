import type { DestinationSource } from './delivery/index.ts';
import type { EventBody } from './publisher.ts';
import { recordSubscriptionOutcome, subscriptionsForSending } from './subscriptions-repository.ts';

/** Event-webhook subscriptions as the shared outbox sends them: every event on its own, never digested. */
export const subscriptionSource: DestinationSource = {
  kind: 'subscription',
  load: subscriptionsForSending,
  recordOutcome: (db, id, outcome) => recordSubscriptionOutcome(db, id, outcome),
  message(payload) {
    const body = payload as EventBody;
    return { subject: body.type, text: `${body.type} ${body.id}`, payload: body };
  },
};
