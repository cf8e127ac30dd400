import type { JetStreamClient } from '@nats-io/jetstream';
import type { RelationalStore } from '../../../stores/relational/index.ts';
import type { Metrics } from '../../../platform/obs/metrics.ts';
import type { Logger } from '../../../platform/obs/logger.ts';
import type { IngestLog } from '../ingest-log.ts';
import { createPushGroups, type PendingPush } from '../push-groups.ts';
import type { IngestRow } from '../sinks/types.ts';
import { collectionTimeProblem } from '../admission.ts';
import { ARRIVAL_SINK, quarantineArrivals, type ArrivalQuarantine } from '../quarantine.ts';
import { advanceSequences, lastSequences } from '../ingest-state.ts';
import { decodeRecord, encodeRecord, messageId } from './record.ts';
import { recordSubject } from './stream.ts';

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
 * The ingest log on NATS JetStream. Pushes that arrive together are appended together: every
 * new record is published with `Nats-Msg-Id = <deviceId>:<seq>` (a re-send inside the duplicate
 * window is dropped by JetStream), and the agent is acked only once JetStream acknowledged every
 * record (by as many replicas as the stream has). The device's sequence in PostgreSQL then moves
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
    const publishes: Promise<IngestRow | null>[] = [];
    let replayed = 0;
    for (const push of group) {
      let last = acks.get(push.device.deviceId);
      if (last === undefined) continue; // not enrolled through this database: nothing is acked
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
        const data = encodeRecord(push.device, record, push.sourceIp, receivedAtMs);
        publishes.push(js.publish(recordSubject(options.stream, push.device.deviceId), data, { msgID: messageId(push.device.deviceId, record.seq) })
          .then((ack) => {
            if (ack.duplicate) {
              replayed++;
              return null;
            }
            metrics.recordsIngested.inc({ kind: record.kind });
            return decodeRecord(ack.seq, data);
          }));
      }
      acks.set(push.device.deviceId, last);
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
    const appended = settled.flatMap((result) => (result.status === 'fulfilled' && result.value ? [result.value] : []));
    return { acks, appended };
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
