import { z } from 'zod';
import { MAX_RECORDS_PER_PUSH } from '../constants.ts';
import { boundedText, boundedCount, epochMs } from './bounds.ts';
import { inventorySchema } from './inventory.ts';
import { metricSampleSchema } from './sample.ts';

/** Per-device sequence number: assigned by the agent when the record enters its outbox. */
export const seqSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/**
 * When the agent collected the record, by its clock. The schema only refuses values no clock
 * shows; whether the time is plausible (MAX_RECORD_AGE_MS, MAX_CLOCK_SKEW_MS) depends on the
 * server's clock, so the server decides that per record and quarantines, never refuses, a
 * record outside the window: a skewed agent must not be stuck resending it.
 */
const collectedAt = epochMs();

export const sampleRecordSchema = z.object({
  seq: seqSchema,
  collectedAt,
  kind: z.literal('sample'),
  sample: metricSampleSchema,
}).strict();

export const inventoryRecordSchema = z.object({
  seq: seqSchema,
  collectedAt,
  kind: z.literal('inventory'),
  inventory: inventorySchema,
}).strict();

/** What the agent's outbox holds and pushes: everything that must arrive exactly once. */
export const outboxRecordSchema = z.discriminatedUnion('kind', [sampleRecordSchema, inventoryRecordSchema]);
export type OutboxRecord = z.infer<typeof outboxRecordSchema>;
export type SampleRecord = z.infer<typeof sampleRecordSchema>;
export type InventoryRecord = z.infer<typeof inventoryRecordSchema>;

export const pushInputSchema = z.object({
  records: z.array(outboxRecordSchema).min(1).max(MAX_RECORDS_PER_PUSH),
}).strict();
export type PushInput = z.infer<typeof pushInputSchema>;

/** `ackSeq` is the highest sequence the server has durably logged for this device. */
export const pushOutputSchema = z.object({ ackSeq: z.number().int().nonnegative() });
export type PushOutput = z.infer<typeof pushOutputSchema>;

/** Agent errors a heartbeat carries at most. */
export const MAX_HEARTBEAT_ERRORS = 100;

export const agentErrorSchema = z.object({
  at: epochMs(),
  code: boundedText(64),
  message: boundedText(2_000),
}).strict();

/** Sent on connect and every interval: the agent's own health, not durable data. */
export const heartbeatInputSchema = z.object({
  agentVersion: boundedText(64),
  intervalMs: z.number().int().min(1_000).max(3_600_000),
  bufferedRecords: boundedCount(),
  bufferedBytes: boundedCount(),
  droppedTotal: boundedCount(),
  errors: z.array(agentErrorSchema).max(MAX_HEARTBEAT_ERRORS).default([]),
}).strict();
export type HeartbeatInput = z.infer<typeof heartbeatInputSchema>;

export const heartbeatOutputSchema = z.object({
  serverTime: z.number().int(),
  /** The server's view of the highest logged sequence, so an agent can drop what is already safe. */
  ackSeq: z.number().int().nonnegative(),
  /**
   * SPKI SHA-256 pins (base64) the server will present next, sent over the connection the agent
   * already trusts: the agent adds them to the pin it took at enrollment, so a planned
   * certificate-key rotation does not lock agents out (TLS_NEXT_SPKI_PINS on the server).
   */
  acceptedServerPins: z.array(z.string().min(40).max(64)).max(8).optional(),
  /**
   * The collection interval the device's settings ask for (organization's or device's
   * agentIntervalSeconds). Absent: none does, and the agent keeps the interval it was started with.
   */
  intervalMs: z.number().int().min(1_000).max(3_600_000).optional(),
});
export type HeartbeatOutput = z.infer<typeof heartbeatOutputSchema>;
