import type { JetStreamClient } from '@nats-io/jetstream';
import type { OutboxRecord } from '@ninjait/shared';
import type { RelationalStore } from '../../../stores/relational/index.ts';
import type { Metrics } from '../../../platform/obs/metrics.ts';
import type { Logger } from '../../../platform/obs/logger.ts';
import type { IngestLog } from '../ingest-log.ts';
import { createPushGroups, type PendingPush } from '../push-groups.ts';
import type { IngestRow } from '../sinks/types.ts';
import { collectionTimeProblem } from '../admission.ts';
import { ARRIVAL_SINK, quarantineArrivals, type ArrivalQuarantine } from '../quarantine.ts';
import { advanceSequences, lastSequences } from '../ingest-state.ts';
import { decodeMessage, encodePush, messageId, rangeMessageId } from './record.ts';
import { recordSubject } from './stream.ts';

/** Publishes of a push's remainder after duplicates, before it goes out under its whole range (see publishPush). */
const MAX_REMAINDER_PUBLISHES = 4;

export interface JetStreamLogOptions {
  js: JetStreamClient;
  db: RelationalStore;
  stream: string;
  groupCommitMs: number;
  metrics: Metrics;
  log?: Pick<Logger, 'warn'>;
  now?: () => number;
}

/**
 * The ingest log on NATS JetStream. Pushes that arrive together are appended together: each
 * push's new records are one message with `Nats-Msg-Id = <deviceId>:<first seq>` (a re-send
 * inside the duplicate window is dropped by JetStream, see publishPush), and the agent is acked
 * only once JetStream acknowledged every message (by as many replicas as the stream has). The device's sequence in PostgreSQL then moves
 * forward, so a replay after the window is filtered too; if that update fails the agent is not
 * acked, re-sends, and the duplicate window drops the copies.
 */
export function createJetStreamIngestLog(options: JetStreamLogOptions): IngestLog {
  const { js, db, metrics } = options;
  const now = options.now ?? Date.now;
  const listeners: ((rows: readonly IngestRow[]) => void)[] = [];

  async function commit(group: PendingPush[]): Promise<void> {
    try {
      const { acks, appended } = await appendGroup(group);
      metrics.groupCommitSize.observe(group.length);
      const at = performance.now();
      for (const push of group) {
        metrics.ackLatency.observe((at - push.receivedAt) / 1000);
        push.resolve(acks.get(push.device.deviceId) ?? 0);
      }
      if (appended.length > 0) for (const listener of listeners) listener(appended);
    } catch (error) {
      // Nothing is acked; what was published is dropped as a duplicate when the agents re-send.
      metrics.storeErrors.inc({ store: 'ingest_log' });
      for (const push of group) push.reject(error);
    }
  }

  async function appendGroup(group: PendingPush[]) {
    const acks = await lastSequences(db, [...new Set(group.map((push) => push.device.deviceId))]);
    const receivedAtMs = now();
    const setAside: ArrivalQuarantine[] = [];
    const publishes: Promise<IngestRow[]>[] = [];
    let replayed = 0;
    for (const push of group) {
      let last = acks.get(push.device.deviceId);
      if (last === undefined) continue; // not enrolled through this database: nothing is acked
      const fresh: OutboxRecord[] = [];
      for (const record of push.records) {
        if (record.seq <= last) {
          replayed++;
          continue;
        }
        last = record.seq;
        const problem = collectionTimeProblem(record.collectedAt, receivedAtMs);
        if (problem) {
          setAside.push({
            deviceId: push.device.deviceId, organizationId: push.device.organizationId, seq: record.seq, kind: record.kind,
            collectedAtMs: record.collectedAt, payload: record.kind === 'sample' ? record.sample : record.inventory, reason: problem,
          });
          continue;
        }
        fresh.push(record);
      }
      acks.set(push.device.deviceId, last);
      // Every push's message is in flight at once: the group waits for one round trip, not one per push.
      if (fresh.length > 0) publishes.push(publishPush(push, fresh, receivedAtMs).then(({ rows, duplicates }) => {
        replayed += duplicates;
        for (const row of rows) metrics.recordsIngested.inc({ kind: row.kind });
        return rows;
      }));
    }
    // Every publish settles before any error is thrown, so none is left unobserved.
    const settled = await Promise.allSettled(publishes);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (setAside.length > 0) {
      await quarantineArrivals(db, setAside);
      metrics.recordsQuarantined.inc({ sink: ARRIVAL_SINK }, setAside.length);
      options.log?.warn({ records: setAside.length, firstDevice: setAside[0]!.deviceId, reason: setAside[0]!.reason },
        'records quarantined on arrival: collection time outside the accepted window');
    }
    await advanceSequences(db, [...acks].filter(([, seq]) => seq > 0));
    if (replayed > 0) metrics.recordsReplayed.inc(replayed);
    const appended = settled.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
    return { acks, appended };
  }

  /**
   * Publishes one push's new records as one message and resolves with the rows the stream took.
   * A push sent again inside the duplicate window is dropped by JetStream (same device, same
   * first record); the original is read back, and only the records the copy has beyond it are
   * published. Should the original be gone (every sink acked it and interest retention removed
   * it), the rest goes out under its whole range: nothing is lost, though a sink may then be
   * given a record it already has (its writes are keyed by device and sequence).
   */
  async function publishPush(push: PendingPush, records: readonly OutboxRecord[], receivedAtMs: number): Promise<{ rows: IngestRow[]; duplicates: number }> {
    const { deviceId } = push.device;
    const subject = recordSubject(options.stream, deviceId);
    let rest = records;
    let duplicates = 0;
    for (let attempt = 0; attempt < MAX_REMAINDER_PUBLISHES; attempt++) {
      const encoded = encodePush(push.device, rest, push.sourceIp, receivedAtMs);
      const ack = await js.publish(subject, encoded.data, { msgID: messageId(deviceId, rest[0]!.seq) });
      if (!ack.duplicate) return { rows: encoded.rows(ack.seq), duplicates };
      const logged = await originalSeqs(ack.seq, deviceId);
      if (!logged) break;
      const beyond = rest.filter((record) => !logged.has(record.seq));
      duplicates += rest.length - beyond.length;
      rest = beyond;
      if (rest.length === 0) return { rows: [], duplicates };
    }
    const encoded = encodePush(push.device, rest, push.sourceIp, receivedAtMs);
    const ack = await js.publish(subject, encoded.data, { msgID: rangeMessageId(deviceId, rest[0]!.seq, rest.at(-1)!.seq) });
    return ack.duplicate ? { rows: [], duplicates: duplicates + rest.length } : { rows: encoded.rows(ack.seq), duplicates };
  }

  /**
   * The record sequences of the device's message at `streamSeq`, or null when it is no longer in
   * the stream (or, should a server answer with another message, is not this device's: every
   * device's sequences start at 1, so another's would pass our records off as logged).
   */
  async function originalSeqs(streamSeq: number, deviceId: string): Promise<Set<number> | null> {
    const stored = await (await js.jetstreamManager()).streams.getMessage(options.stream, { seq: streamSeq });
    const rows = stored ? decodeMessage(streamSeq, stored.string()) : [];
    return rows.length > 0 && rows.every((row) => row.deviceId === deviceId) ? new Set(rows.map((row) => row.seq)) : null;
  }

  const groups = createPushGroups(options.groupCommitMs, commit);
  return {
    append: groups.append,
    onAppended(listener) {
      listeners.push(listener);
    },
    flush: groups.flush,
  };
}
