import type { SqlExecutor } from '../../stores/relational/index.ts';
import type { IngestRow } from './sinks/types.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import { logIdsAfter, logRowsAfter, logRowsByIds } from './log-repository.ts';

export interface IngestLogReader {
  /**
   * Log rows with `id > after`, in id order, at most `limit`: what a drainer copies next.
   * `consumer` names the drainer, so that one far ahead of the others can wait for them (below).
   */
  readAfter(after: number, limit: number, consumer?: string): Promise<IngestRow[]>;
  /** Rows this instance has just committed: drainers get them without reading them back. */
  remember(rows: readonly IngestRow[]): void;
}

/** How long a finished full batch answers the same request: enough for every drainer at that cursor. */
const SHARE_MS = 250;
/** A drainer that has not moved forward this long is not waited for (its sink fails, it stopped, or its writes take this long). */
const CONVOY_LIVE_MS = 2_000;
/** The longest one read waits for the drainers behind. */
const CONVOY_MAX_WAIT_MS = 2_000;
/** How often a waiting read looks again when no drainer moved. */
const CONVOY_RECHECK_MS = 100;

/**
 * One reader for every drainer of an instance. Decoding payloads was most of the embedded
 * database's time when each sink read the same rows for itself; now each drainer asks the
 * database only which ids follow its cursor (an index-only scan) and takes the rows from
 * memory: the ones this instance committed, or the ones another drainer already read.
 * The database stays the source of truth: which rows exist, and in what order, is always
 * what the id query says, so a row from another instance or a replay after a crash is
 * read from the log like before. Identical reads in flight (drainers at the same cursor, or a
 * drainer's read-ahead) are made once; a read answered a moment ago is still a prefix of the
 * log after that cursor, because log ids become visible in commit order.
 *
 * When memory holds no row past the cursor (a backlog after an outage or a restart, rows of
 * another instance) the ids would only name rows to fetch: the rows are read in one range scan
 * instead, which also spares the database a probe of the key per id.
 *
 * In a backlog the drainers go at their sinks' speeds: the cache's and the alerts' went 2-3×
 * the ClickHouse one's, so by the time the slow ones came, memory had let go of the rows and
 * each drainer read every row for itself (4 reads of each row for 4 sinks, the reads and the
 * garbage they made most of a drain's CPU; bench: drain). So the drainers of an instance move
 * as a convoy: a read that would take the reader so far ahead that memory lets go of the rows a
 * drainer behind still needs waits for that drainer, at most CONVOY_MAX_WAIT_MS. Only a drainer
 * in a backlog itself waits (its last batch was full): one at the log's end reads rows that no
 * drainer behind will share, so a sink catching up after an outage never slows the others'
 * fresh rows. And it waits only for drainers that moved forward in the last CONVOY_LIVE_MS: a
 * sink that fails asks again from the same place, and holds nobody up for longer than that.
 */
export interface IngestLogReaderOptions {
  /** Rows kept in memory for the drainers behind the newest. */
  capacityRows: number;
  /** Range reads come back as one JSON value: much faster on PGlite, slower on PostgreSQL (logRowsAfter). */
  rangeReadsAsJson?: boolean;
  /** Counts the rows read back from the database. */
  metrics?: Pick<Metrics, 'logRowsRead'>;
}

export function createIngestLogReader(db: SqlExecutor, options: IngestLogReaderOptions): IngestLogReader {
  // Insertion order is (almost) id order, so evicting from the front drops the oldest rows.
  const recent = new Map<number, IngestRow>();
  // The highest id ever kept: at or below a cursor, memory cannot hold any row after it.
  let newestKept = 0;

  const keep = (row: IngestRow) => {
    recent.delete(row.id);
    recent.set(row.id, row);
    if (row.id > newestKept) newestKept = row.id;
  };
  const evict = () => {
    for (const id of recent.keys()) {
      if (recent.size <= options.capacityRows) break;
      recent.delete(id);
    }
  };

  async function read(after: number, limit: number): Promise<IngestRow[]> {
    if (newestKept <= after) {
      const rows = await logRowsAfter(db, after, limit, { asOneJson: options.rangeReadsAsJson ?? false });
      options.metrics?.logRowsRead.inc(rows.length);
      for (const row of rows) keep(row);
      evict();
      return rows;
    }
    const ids = await logIdsAfter(db, after, limit);
    const batch = new Map<number, IngestRow | undefined>(ids.map((id) => [id, recent.get(id)]));
    const missing = ids.filter((id) => !batch.get(id));
    if (missing.length > 0) {
      const fetched = await logRowsByIds(db, missing);
      options.metrics?.logRowsRead.inc(fetched.length);
      for (const row of fetched) {
        batch.set(row.id, row);
        keep(row);
      }
    }
    // A row can only vanish if the log was trimmed under us; stop before the gap and read again next time.
    const result: IngestRow[] = [];
    for (const row of batch.values()) {
      if (!row) break;
      result.push(row);
    }
    evict();
    return result;
  }

  /**
   * Where each named drainer last asked to read from, when it last moved forward, and whether its
   * last batch was full (it is in a backlog); reads waiting for a drainer to move.
   */
  const positions = new Map<string, { after: number; movedAtMs: number; inBacklog: boolean }>();
  const moved: (() => void)[] = [];
  const lead = (limit: number) => Math.max(limit, options.capacityRows - 2 * limit);
  /** A drainer behind this one that is moving: not one whose sink fails (it asks again from the same place), nor a stopped one. */
  const waitedFor = (consumer: string, after: number, limit: number) => {
    const now = performance.now();
    for (const [other, position] of positions) {
      if (other !== consumer && now - position.movedAtMs < CONVOY_LIVE_MS && after - position.after >= lead(limit)) return true;
    }
    return false;
  };
  async function keepConvoy(consumer: string, after: number, limit: number) {
    const known = positions.get(consumer);
    const position = { after, movedAtMs: known && known.after === after ? known.movedAtMs : performance.now(), inBacklog: known?.inBacklog ?? false };
    positions.set(consumer, position);
    for (const waiters of moved.splice(0)) waiters();
    // A drainer at the log's end reads rows no one behind it will share: it never waits.
    if (!position.inBacklog) return;
    const giveUpAt = performance.now() + CONVOY_MAX_WAIT_MS;
    while (waitedFor(consumer, after, limit) && performance.now() < giveUpAt) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, CONVOY_RECHECK_MS);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        moved.push(done);
      });
    }
  }

  const shared = new Map<string, { rows: Promise<IngestRow[]>; settledAt?: number }>();
  function readShared(after: number, limit: number): Promise<IngestRow[]> {
    const now = performance.now();
    for (const [key, entry] of shared) if (entry.settledAt !== undefined && now - entry.settledAt > SHARE_MS) shared.delete(key);
    const key = `${after}:${limit}`;
    const hit = shared.get(key);
    if (hit) return hit.rows;
    const entry: { rows: Promise<IngestRow[]>; settledAt?: number } = { rows: read(after, limit) };
    shared.set(key, entry);
    // A short batch reached the log's end: later readers must look again for newer rows.
    entry.rows.then((rows) => (rows.length < limit ? shared.delete(key) : void (entry.settledAt = performance.now())), () => shared.delete(key));
    return entry.rows;
  }

  return {
    async readAfter(after, limit, consumer) {
      if (consumer === undefined) return readShared(after, limit);
      // Before the shared reads: a drainer behind must never find its read waiting on the convoy for itself.
      await keepConvoy(consumer, after, limit);
      const rows = await readShared(after, limit);
      const position = positions.get(consumer);
      if (position?.after === after) position.inBacklog = rows.length === limit;
      return rows;
    },
    remember(rows) {
      for (const row of rows) keep(row);
      evict();
    },
  };
}
