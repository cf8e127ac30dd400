import type { WebhookEventType } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';

/**
 * Something that happened in a feature, for the organization's event webhooks. `source` names the
 * record that makes it unique (a device, a command, an alert's event-log row, a ticket change):
 * the event's id is derived from type and source, so publishing the same happening twice (a
 * replayed batch, a retried job) is one event, delivered once.
 */
export interface DomainEvent {
  type: WebhookEventType;
  organizationId: string;
  source: string;
  /** What receivers get under `data`; small, and without secrets. */
  data: Record<string, unknown>;
}

/**
 * The port features publish through; the composition root passes the implementation (event
 * webhooks). `publish` writes in the caller's transaction, so an event exists exactly when the
 * change that caused it commits.
 */
export interface EventPublisher {
  publish(tx: SqlExecutor, event: DomainEvent): Promise<void>;
  /** Several events in one statement, for a transaction that makes many records at once (a group of enrollments). */
  publishAll(tx: SqlExecutor, events: readonly DomainEvent[]): Promise<void>;
}

/** For code paths built without webhooks (tools and tests that need no events). */
export const noEvents: EventPublisher = { publish: async () => {}, publishAll: async () => {} };
