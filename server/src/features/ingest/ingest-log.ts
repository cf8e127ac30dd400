import type { OutboxRecord } from '@ninjait/shared';
import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { AuthenticatedDevice } from '../devices/index.ts';
import { createPushGroups, type PendingPush } from './push-groups.ts';
import type { IngestRow } from './sinks/types.ts';
import { collectionTimeProblem } from './admission.ts';
import { ARRIVAL_SINK, quarantineArrivals, type ArrivalQuarantine } from './quarantine.ts';
import { advanceSequences, lockSequences } from './ingest-state.ts';
import { insertLogRows, lockAppends, type LogAppend } from './log-repository.ts';

export interface IngestLog {
  /** Resolves with the device's highest durably logged sequence once the records are committed. */
  append(device: AuthenticatedDevice, records: readonly OutboxRecord[], sourceIp: string | null): Promise<number>;
  /** Called with the rows of each commit that added some, so local drainers start at once without reading them back. */
  onAppended(listener: (rows: readonly IngestRow[]) => void): void;
  /** Waits for pushes already accepted to commit. */
  flush(): Promise<void>;
}

export interface IngestLogOptions {
  groupCommitMs: number;
  metrics: Metrics;
  /** Says which records were quarantined on arrival; silent when absent. */
  log?: Pick<Logger, 'warn'>;
  /** The server's clock, which judges collection times (tests move it). */
  now?: () => number;
}

/**
 * Group commit: pushes that arrive while a commit is running (or within `groupCommitMs`)
 * are committed together in one transaction, so throughput grows with load instead of
 * paying one fsync per push. A record whose collection time is implausible is acked like the
 * others (its agent moves on) but quarantined instead of logged, in the same transaction.
 */
export function createIngestLog(db: RelationalStore, options: IngestLogOptions): IngestLog {
  const now = options.now ?? Date.now;
  const listeners: ((rows: readonly IngestRow[]) => void)[] = [];

  async function commit(group: PendingPush[]): Promise<void> {
    try {
      await commitTogether(group);
    } catch (error) {
      options.metrics.storeErrors.inc({ store: 'ingest_log' });
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // One push's data may be what failed the group: alone, the other devices' pushes still land.
      for (const push of group) {
        await commitTogether([push]).catch((alone: unknown) => {
          options.metrics.storeErrors.inc({ store: 'ingest_log' });
          push.reject(alone);
        });
      }
    }
  }

  /** Commits pushes in one transaction and answers them; throws (answering none) when the transaction fails. */
  async function commitTogether(group: PendingPush[]): Promise<void> {
    const { acks, appended, setAside } = await db.transaction((tx) => appendGroup(tx, group));
    options.metrics.groupCommitSize.observe(group.length);
    if (setAside.length > 0) reportSetAside(setAside);
    const now = performance.now();
    for (const push of group) {
      options.metrics.ackLatency.observe((now - push.receivedAt) / 1000);
      push.resolve(acks.get(push.device.deviceId) ?? 0);
    }
    if (appended.length > 0) for (const listener of listeners) listener(appended);
  }

  /** One counter step and one warning per device, not per record: a skewed agent sends a record every interval. */
  function reportSetAside(records: readonly ArrivalQuarantine[]) {
    options.metrics.recordsQuarantined.inc({ sink: ARRIVAL_SINK }, records.length);
    const byDevice = new Map<string, { first: ArrivalQuarantine; count: number }>();
    for (const record of records) {
      const seen = byDevice.get(record.deviceId);
      if (seen) seen.count++;
      else byDevice.set(record.deviceId, { first: record, count: 1 });
    }
    for (const [deviceId, { first, count }] of byDevice) {
      options.log?.warn({ deviceId, organizationId: first.organizationId, records: count, firstSeq: first.seq, reason: first.reason },
        'records quarantined on arrival: collection time outside the accepted window');
    }
  }

  async function appendGroup(tx: SqlExecutor, group: PendingPush[]) {
    await lockAppends(tx);
    const acks = await lockSequences(tx, [...new Set(group.map((push) => push.device.deviceId))]);
    const fresh: (LogAppend & { k: OutboxRecord['kind']; p: IngestRow['payload'] })[] = [];
    const setAside: ArrivalQuarantine[] = [];
    const receivedAtMs = now();
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
        const payload = record.kind === 'sample' ? record.sample : record.inventory;
        const problem = collectionTimeProblem(record.collectedAt, receivedAtMs);
        if (problem) {
          setAside.push({
            deviceId: push.device.deviceId, organizationId: push.device.organizationId, seq: record.seq, kind: record.kind,
            collectedAtMs: record.collectedAt, payload, reason: problem,
          });
          continue;
        }
        fresh.push({
          d: push.device.deviceId, o: push.device.organizationId, s: record.seq, k: record.kind,
          t: record.collectedAt, ip: push.sourceIp, p: payload,
        });
        options.metrics.recordsIngested.inc({ kind: record.kind });
      }
      acks.set(push.device.deviceId, last);
    }
    if (replayed > 0) options.metrics.recordsReplayed.inc(replayed);
    if (fresh.length === 0 && setAside.length === 0) return { acks, appended: [], setAside };
    await quarantineArrivals(tx, setAside);
    const inserted = await insertLogRows(tx, fresh);
    await advanceSequences(tx, [...acks].filter(([, seq]) => seq > 0));
    const byDeviceSeq = new Map(fresh.map((row) => [`${row.d}:${row.s}`, row]));
    const appended = inserted.map(({ id, deviceId, seq, receivedAt }) => {
      const row = byDeviceSeq.get(`${deviceId}:${seq}`)!;
      return {
        id, deviceId, organizationId: row.o, seq, kind: row.k, collectedAt: new Date(row.t), receivedAt,
        sourceIp: row.ip, payload: row.p,
      } as IngestRow;
    }).sort((a, b) => a.id - b.id);
    return { acks, appended, setAside };
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
