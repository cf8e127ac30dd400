import { z } from 'zod';
import { MAX_RECORDS_PER_PUSH } from '../constants.ts';
import { inventorySchema } from './inventory.ts';
import { metricSampleSchema } from './sample.ts';

/** Per-device sequence number: assigned by the agent when the record enters its outbox. */
export const seqSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const collectedAt = z.number().int().positive().describe('epoch milliseconds');

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

export const agentErrorSchema = z.object({
  at: z.number().int().positive(),
  code: z.string().max(64),
  message: z.string().max(2_000),
}).strict();

/** Sent on connect and every interval: the agent's own health, not durable data. */
export const heartbeatInputSchema = z.object({
  agentVersion: z.string().max(64),
  intervalMs: z.number().int().min(1_000).max(3_600_000),
  bufferedRecords: z.number().int().nonnegative(),
  bufferedBytes: z.number().int().nonnegative(),
  droppedTotal: z.number().int().nonnegative(),
  errors: z.array(agentErrorSchema).max(100).default([]),
}).strict();
export type HeartbeatInput = z.infer<typeof heartbeatInputSchema>;

export const heartbeatOutputSchema = z.object({
  serverTime: z.number().int(),
  /** The server's view of the highest logged sequence, so an agent can drop what is already safe. */
  ackSeq: z.number().int().nonnegative(),
});
export type HeartbeatOutput = z.infer<typeof heartbeatOutputSchema>;
