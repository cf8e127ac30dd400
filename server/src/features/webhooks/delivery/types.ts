import type { SqlExecutor } from '../../../stores/relational/index.ts';

/** Which table an outbox row's destination lives in: an alert channel or an event-webhook subscription. */
export type DestinationKind = 'channel' | 'subscription';

/** How a message is put on the wire: our signed JSON, Slack's or Teams' incoming-webhook body, or mail. */
export type DeliveryFormat = 'webhook' | 'slack' | 'teams' | 'email';

/** What leaves for one outbox row (or one digest of several). */
export interface Message { subject: string; text: string; payload: unknown }

/** Where a message goes, with its secret: read only by the sender. */
export interface Destination {
  id: string;
  organizationId: string;
  name: string;
  format: DeliveryFormat;
  /** The URL, or the address (email). */
  target: string;
  signingSecret: string | null;
  lastDigestAt: Date | null;
}

/**
 * One kind of destination, as the one dispatcher needs it: reading destinations, keeping their
 * health columns, and turning stored payloads into messages. A kind without `digest` has every
 * row sent on its own (event webhooks: each event arrives with its own id).
 */
export interface DestinationSource {
  kind: DestinationKind;
  load(db: SqlExecutor, ids: readonly string[]): Promise<Destination[]>;
  recordOutcome(db: SqlExecutor, id: string, outcome: { ok: boolean; error: string | null; digest: boolean }): Promise<void>;
  message(payload: unknown): Message;
  digest?(organizationId: string, payloads: readonly unknown[]): Message;
}
