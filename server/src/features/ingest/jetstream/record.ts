import { z } from 'zod';
import type { OutboxRecord } from '@ninjait/shared';
import type { IngestRow } from '../sinks/types.ts';

/**
 * One record as it sits in the stream. Short keys: at 30,000 records/s the envelope is a
 * visible share of every message. The stream sequence becomes the row's `id`.
 */
const envelopeSchema = z.object({
  d: z.uuid(),
  o: z.uuid(),
  s: z.number().int().nonnegative(),
  k: z.enum(['sample', 'inventory']),
  /** Collection time as the agent sent it (epoch ms). */
  t: z.number(),
  /** Received at (epoch ms), on the appending instance's clock. */
  r: z.number(),
  ip: z.string().max(64).nullable(),
  p: z.unknown(),
});
type Envelope = z.infer<typeof envelopeSchema>;

/** The record's id in JetStream's duplicate window: the same device and sequence is the same record. */
export const messageId = (deviceId: string, seq: number) => `${deviceId}:${seq}`;

export function encodeRecord(device: { deviceId: string; organizationId: string }, record: OutboxRecord, sourceIp: string | null, receivedAtMs: number): string {
  const payload = record.kind === 'sample' ? record.sample : record.inventory;
  return JSON.stringify({
    d: device.deviceId, o: device.organizationId, s: record.seq, k: record.kind, t: record.collectedAt, r: receivedAtMs, ip: sourceIp, p: payload,
  } satisfies Envelope);
}

/**
 * A stream message as drainers see it; throws on a message that is not ours (anything can
 * publish on a NATS subject the account may write to).
 */
export function decodeRecord(streamSeq: number, text: string): IngestRow {
  const e = envelopeSchema.parse(JSON.parse(text));
  return {
    id: streamSeq, deviceId: e.d, organizationId: e.o, seq: e.s, kind: e.k, collectedAt: new Date(e.t),
    receivedAt: new Date(e.r), sourceIp: e.ip, payload: e.p,
  } as IngestRow;
}
