import type { DomainEvent, EventPublisher } from '../events/index.ts';
import { eventIdOf } from './event-id.ts';
import { enqueueEvents } from './subscriptions-repository.ts';

/** What a receiver gets: the same body on every attempt and on a resend. */
export interface EventBody {
  id: string;
  type: DomainEvent['type'] | 'webhook.test';
  organizationId: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** The event port's implementation: the organization's matching subscriptions get an outbox row each. */
export function createEventPublisher(): EventPublisher {
  return {
    async publish(tx, event) {
      await enqueueEvents(tx, [bodyOf(event)]);
    },
    async publishAll(tx, events) {
      if (events.length > 0) await enqueueEvents(tx, events.map(bodyOf));
    },
  };
}

function bodyOf(event: DomainEvent): EventBody & { type: DomainEvent['type'] } {
  const id = eventIdOf(event.organizationId, event.type, event.source);
  return { id, type: event.type, organizationId: event.organizationId, occurredAt: new Date().toISOString(), data: event.data };
}
