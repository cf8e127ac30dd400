import Database from 'better-sqlite3';
import { MAX_RECORD_AGE_MS, outboxRecordSchema, type OutboxRecord } from '@ninjait/shared';
import { RECORD_OVERHEAD_BYTES, SCHEMA_SQL, type MetaRow, type RecordRow } from './sql.ts';
import type { AppendResult, NewRecord, Outbox, OutboxStats } from './types.ts';

const MB = 1024 * 1024;
/** Rows read per step while the cap drops the oldest records. */
const DROP_STEP_ROWS = 512;

export interface OpenOutboxOptions {
  /** Path of the SQLite file (`<dataDir>/outbox.db`). */
  file: string;
  /** Cap on the sum of stored body bytes; the oldest records go first when it is passed. */
  bufferMaxMb: number;
  /** Records collected longer ago are dropped (and counted) instead of sent: the server would only quarantine them. */
  maxRecordAgeMs?: number;
  /** The clock record ages are measured by (tests set it). */
  now?: () => number;
}

/**
 * Opens (creating if needed) the outbox. WAL makes a committed append survive kill -9.
 * synchronous=FULL, not NORMAL: NORMAL may lose the last commits on power loss, and a lost
 * `next_seq` bump would make the agent reuse sequence numbers the server already logged, so
 * the server would silently discard new samples as replays. One fsync per append (every
 * interval) or per acked batch is cheap next to that.
 */
/** Share of --buffer-max-mb that record bodies may use; the rest is SQLite's pages and WAL. */
const BODY_SHARE_OF_CAP = 0.45;
/** Share of --buffer-max-mb the WAL may reach before a checkpoint truncates it. */
const WAL_SHARE_OF_CAP = 0.2;

export function openOutbox(opts: OpenOutboxOptions): Outbox {
  const maxRecordAgeMs = opts.maxRecordAgeMs ?? MAX_RECORD_AGE_MS;
  const now = opts.now ?? Date.now;
  const fileCapBytes = Math.max(1, Math.floor(opts.bufferMaxMb * MB));
  // The cap is for the files on disk: record bodies get a share of it, SQLite's page overhead
  // and the WAL the rest (measured: pages ~1.3x the bodies, WAL bounded below).
  const capBytes = Math.max(1, Math.floor(fileCapBytes * BODY_SHARE_OF_CAP));
  const db = new Database(opts.file);
  const walCapBytes = Math.floor(fileCapBytes * WAL_SHARE_OF_CAP);
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${Math.max(8, Math.floor(walCapBytes / pageSize))}`);
  // Truncates the WAL back to this size after each checkpoint, so it never keeps its peak.
  db.pragma(`journal_size_limit = ${walCapBytes}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // `enroll` may write while `run` holds the file; wait instead of failing.
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA_SQL);

  const q = {
    meta: db.prepare<[], MetaRow>('SELECT next_seq, dropped_total, buffered_records, buffered_bytes FROM meta WHERE id = 1'),
    insert: db.prepare('INSERT INTO records (seq, collected_at, kind, body, bytes) VALUES (?, ?, ?, ?, ?)'),
    bumpAppend: db.prepare('UPDATE meta SET next_seq = ?, buffered_records = buffered_records + 1, buffered_bytes = buffered_bytes + ? WHERE id = 1'),
    oldestSizes: db.prepare<[number, number], { seq: number; bytes: number }>('SELECT seq, bytes FROM records WHERE seq > ? ORDER BY seq LIMIT ?'),
    oldest: db.prepare<[number], RecordRow>('SELECT seq, collected_at, kind, body, bytes FROM records ORDER BY seq LIMIT ?'),
    sizeUpTo: db.prepare<[number], { n: number; b: number }>('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM records WHERE seq <= ?'),
    deleteUpTo: db.prepare('DELETE FROM records WHERE seq <= ?'),
    one: db.prepare<[number], { bytes: number }>('SELECT bytes FROM records WHERE seq = ?'),
    deleteOne: db.prepare('DELETE FROM records WHERE seq = ?'),
    removed: db.prepare('UPDATE meta SET buffered_records = buffered_records - ?, buffered_bytes = buffered_bytes - ?, dropped_total = dropped_total + ? WHERE id = 1'),
    setNextSeq: db.prepare('UPDATE meta SET next_seq = max(next_seq, ?) WHERE id = 1'),
    minSeq: db.prepare<[], { s: number | null }>('SELECT min(seq) AS s FROM records'),
    negate: db.prepare('UPDATE records SET seq = -seq'),
    shift: db.prepare('UPDATE records SET seq = -seq + ?'),
    oldestAt: db.prepare<[], { t: number | null }>('SELECT collected_at AS t FROM records ORDER BY seq LIMIT 1'),
    countBetween: db.prepare<[number, number], { n: number }>('SELECT count(*) AS n FROM records WHERE seq BETWEEN ? AND ?'),
    undrop: db.prepare('UPDATE meta SET dropped_total = max(0, dropped_total - ?) WHERE id = 1'),
    sizeBefore: db.prepare<[number], { n: number; b: number }>('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM records WHERE collected_at < ?'),
    deleteBefore: db.prepare('DELETE FROM records WHERE collected_at < ?'),
  };
  const meta = (): MetaRow => {
    const row = q.meta.get();
    if (!row) throw new Error('outbox meta row missing');
    return row;
  };

  /**
   * The batch last handed out by `oldest` and how many of it the cap has dropped since. The
   * server may log those anyway; when its ack covers them they are not counted as dropped.
   */
  let inFlight: { from: number; to: number; dropped: number } | null = null;

  /** Deletes `seq <= upTo`; `drop` says whether they count as dropped (unsent) or acked. */
  const removeUpTo = (upTo: number, drop: boolean): number => {
    if (drop && inFlight) inFlight.dropped += q.countBetween.get(inFlight.from, Math.min(upTo, inFlight.to))?.n ?? 0;
    const { n, b } = q.sizeUpTo.get(upTo) ?? { n: 0, b: 0 };
    if (n > 0) {
      q.deleteUpTo.run(upTo);
      q.removed.run(n, b, drop ? n : 0);
    }
    // The server has logged up to `upTo`: new records must number above it or it would filter them.
    q.setNextSeq.run(upTo + 1);
    return n;
  };

  /** Finds the newest seq to drop so the total fits the cap again, never dropping `keepSeq`. */
  const enforceCap = (keepSeq: number): number => {
    let excess = meta().buffered_bytes - capBytes;
    if (excess <= 0) return 0;
    let last = 0;
    let n = 0;
    for (let after = 0; excess > 0; ) {
      const rows = q.oldestSizes.all(after, DROP_STEP_ROWS);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (row.seq >= keepSeq || excess <= 0) break;
        excess -= row.bytes;
        last = row.seq;
        n++;
      }
      const tail = rows[rows.length - 1];
      if (!tail || tail.seq >= keepSeq || rows.length < DROP_STEP_ROWS) break;
      after = tail.seq;
    }
    if (n > 0) removeUpTo(last, true);
    return n;
  };

  const appendOne = (record: NewRecord): AppendResult => {
    const seq = meta().next_seq;
    const valid = outboxRecordSchema.parse({ ...record, seq });
    const body = JSON.stringify(valid.kind === 'sample' ? valid.sample : valid.inventory);
    const bytes = Buffer.byteLength(body);
    q.insert.run(seq, valid.collectedAt, valid.kind, body, bytes);
    q.bumpAppend.run(seq + 1, bytes);
    return { seq, dropped: enforceCap(seq) };
  };
  const append = db.transaction(appendOne);
  const appendMany = db.transaction((records: NewRecord[]) => records.map(appendOne));

  const ack = db.transaction((ackSeq: number) => {
    if (inFlight && inFlight.dropped > 0 && ackSeq >= inFlight.from) {
      // The cap drops from the front, so the dropped part of the batch is its oldest records.
      q.undrop.run(Math.min(inFlight.dropped, ackSeq - inFlight.from + 1));
    }
    inFlight = null;
    return removeUpTo(ackSeq, false);
  });

  /** Drops records too old to send, counted as dropped; by collection time, not seq (a clock can jump back). */
  const expire = db.transaction((cutoff: number): number => {
    const { n, b } = q.sizeBefore.get(cutoff) ?? { n: 0, b: 0 };
    if (n === 0) return 0;
    q.deleteBefore.run(cutoff);
    q.removed.run(n, b, n);
    return n;
  });

  const discard = db.transaction((seq: number): boolean => {
    const row = q.one.get(seq);
    if (!row) return false;
    q.deleteOne.run(seq);
    q.removed.run(1, row.bytes, 1);
    return true;
  });

  const seed = db.transaction((nextSeq: number, resequence: boolean) => {
    const min = q.minSeq.get()?.s ?? null;
    if (!resequence) {
      removeUpTo(nextSeq - 1, false);
      return;
    }
    if (min !== null && min < nextSeq) {
      const offset = nextSeq - min;
      // Two steps so no intermediate row collides with the primary key.
      q.negate.run();
      q.shift.run(offset);
      q.setNextSeq.run(meta().next_seq + offset);
    }
    q.setNextSeq.run(nextSeq);
  });

  return {
    append: (record) => append.immediate(record),
    appendMany: (records) => appendMany.immediate(records),
    oldest(limit, maxBytes) {
      expire.immediate(now() - maxRecordAgeMs);
      const out: OutboxRecord[] = [];
      let size = 0;
      for (const row of q.oldest.iterate(limit)) {
        size += row.bytes + RECORD_OVERHEAD_BYTES;
        if (out.length > 0 && size > maxBytes) break;
        out.push(toRecord(row));
      }
      inFlight = out.length > 0 ? { from: out[0]!.seq, to: out.at(-1)!.seq, dropped: 0 } : null;
      return out;
    },
    ackUpTo: (ackSeq) => ack.immediate(ackSeq),
    discard: (seq) => discard.immediate(seq),
    seed: (nextSeq, opts) => seed.immediate(nextSeq, opts.resequence),
    stats: () => toStats(meta(), q.oldestAt.get()?.t ?? null),
    close: () => db.close(),
  };
}

function toRecord(row: RecordRow): OutboxRecord {
  const payload: unknown = JSON.parse(row.body);
  const base = { seq: row.seq, collectedAt: row.collected_at };
  // Bodies were validated on append; the cast only restores the type the schema checked.
  return (row.kind === 'sample'
    ? { ...base, kind: 'sample', sample: payload }
    : { ...base, kind: 'inventory', inventory: payload }) as OutboxRecord;
}

/** Meta row → public counters. */
export function toStats(m: MetaRow, oldestCollectedAt: number | null): OutboxStats {
  return {
    bufferedRecords: m.buffered_records,
    bufferedBytes: m.buffered_bytes,
    droppedTotal: m.dropped_total,
    nextSeq: m.next_seq,
    oldestCollectedAt,
  };
}
