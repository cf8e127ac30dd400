import { z } from 'zod';
import { MAX_RECORDS_PER_PUSH, type OutboxRecord } from '@ninjait/shared';
import type { IngestRow } from '../sinks/types.ts';

/**
 * Rows of one message get ids `streamSeq * ROW_ID_STRIDE + index`: unique per row (quarantine
 * keys on them, the ClickHouse sink names its insert tokens after them) and in log order.
 * Larger than a push can be, so a message's rows never reach the next message's ids.
 */
export const ROW_ID_STRIDE = 1024;
if (MAX_RECORDS_PER_PUSH >= ROW_ID_STRIDE) throw new Error('ROW_ID_STRIDE must exceed MAX_RECORDS_PER_PUSH');

/**
 * One push's new records as they sit in the stream: one message per push, because JetStream's
 * cost is per message (a publish, a stored message with its duplicate-window entry, and one
 * delivery and ack per sink), so a push of 50 records costs what one record did. Short keys:
 * at 30,000 records/s the envelope is a visible share of every message.
 */
const pushEnvelopeSchema = z.object({
  /** Format version; messages without it are the single-record format below. */
  v: z.literal(2),
  d: z.uuid(),
  o: z.uuid(),
  /** Received at (epoch ms), on the appending instance's clock. */
  r: z.number(),
  ip: z.string().max(64).nullable(),
  x: z.array(z.object({
    s: z.number().int().nonnegative(),
    k: z.enum(['sample', 'inventory']),
    /** Collection time as the agent sent it (epoch ms). */
    t: z.number(),
    p: z.unknown(),
  })).min(1).max(MAX_RECORDS_PER_PUSH),
});
type PushEnvelope = z.infer<typeof pushEnvelopeSchema>;

/** The format before pushes were batched (one record per message): still in streams written by older servers. */
const recordEnvelopeSchema = z.object({
  d: z.uuid(),
  o: z.uuid(),
  s: z.number().int().nonnegative(),
  k: z.enum(['sample', 'inventory']),
  t: z.number(),
  r: z.number(),
  ip: z.string().max(64).nullable(),
  p: z.unknown(),
});

/**
 * A push message's id in JetStream's duplicate window: the device and its first record. A push
 * sent again starts at the same record (the agent re-sends from its oldest unacked one), so the
 * copy is dropped; log.ts then publishes whatever the copy has beyond the original.
 */
export const messageId = (deviceId: string, firstSeq: number) => `${deviceId}:${firstSeq}`;

/** The id of a push whose original could not be read back (see log.ts): its whole range. */
export const rangeMessageId = (deviceId: string, firstSeq: number, lastSeq: number) => `${deviceId}:${firstSeq}-${lastSeq}`;

export interface EncodedPush {
  data: string;
  /** The rows as drainers will decode them, given the stream sequence the message got. */
  rows(streamSeq: number): IngestRow[];
}

/** One message for `records` (in sequence order, at least one) of one device. */
export function encodePush(device: { deviceId: string; organizationId: string }, records: readonly OutboxRecord[], sourceIp: string | null, receivedAtMs: number): EncodedPush {
  const envelope: PushEnvelope = {
    v: 2, d: device.deviceId, o: device.organizationId, r: receivedAtMs, ip: sourceIp,
    x: records.map((record) => ({ s: record.seq, k: record.kind, t: record.collectedAt, p: record.kind === 'sample' ? record.sample : record.inventory })),
  };
  return { data: JSON.stringify(envelope), rows: (streamSeq) => rowsOf(streamSeq, envelope) };
}

function rowsOf(streamSeq: number, e: PushEnvelope): IngestRow[] {
  const receivedAt = new Date(e.r);
  return e.x.map((record, i) => ({
    id: streamSeq * ROW_ID_STRIDE + i, deviceId: e.d, organizationId: e.o, seq: record.s, kind: record.k, collectedAt: new Date(record.t),
    receivedAt, sourceIp: e.ip, payload: record.p,
  }) as IngestRow);
}

/**
 * A stream message as drainers see it, in either format; throws on a message that is not ours
 * (anything can publish on a NATS subject the account may write to).
 */
export function decodeMessage(streamSeq: number, text: string): IngestRow[] {
  const json: unknown = JSON.parse(text);
  if (typeof json === 'object' && json !== null && 'v' in json) return rowsOf(streamSeq, pushEnvelopeSchema.parse(json));
  const e = recordEnvelopeSchema.parse(json);
  return [{
    id: streamSeq * ROW_ID_STRIDE, deviceId: e.d, organizationId: e.o, seq: e.s, kind: e.k, collectedAt: new Date(e.t),
    receivedAt: new Date(e.r), sourceIp: e.ip, payload: e.p,
  } as IngestRow];
}
