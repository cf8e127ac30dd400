import type { SqlExecutor } from '../stores/relational/index.ts';
import type { IngestRow } from '../sinks/types.ts';

export interface IngestLogReader {
  /** Log rows with `id > after`, in id order, at most `limit`: what a drainer copies next. */
  readAfter(after: number, limit: number): Promise<IngestRow[]>;
  /** Rows this instance has just committed: drainers get them without reading them back. */
  remember(rows: readonly IngestRow[]): void;
}

export const INGEST_ROW_COLUMNS = `id, device_id AS "deviceId", organization_id AS "organizationId", seq, kind,
  collected_at AS "collectedAt", received_at AS "receivedAt", host(source_ip) AS "sourceIp", payload`;

/**
 * One reader for every drainer of an instance. Decoding payloads was most of the embedded
 * database's time when each sink read the same rows for itself; now each drainer asks the
 * database only which ids follow its cursor (an index-only scan) and takes the rows from
 * memory: the ones this instance committed, or the ones another drainer already read.
 * The database stays the source of truth: which rows exist, and in what order, is always
 * what the id query says, so a row from another instance or a replay after a crash is
 * read from the log like before.
 */
export function createIngestLogReader(db: SqlExecutor, options: { capacityRows: number }): IngestLogReader {
  // Insertion order is (almost) id order, so evicting from the front drops the oldest rows.
  const recent = new Map<number, IngestRow>();

  const keep = (row: IngestRow) => {
    recent.delete(row.id);
    recent.set(row.id, row);
  };
  const evict = () => {
    for (const id of recent.keys()) {
      if (recent.size <= options.capacityRows) break;
      recent.delete(id);
    }
  };

  return {
    async readAfter(after, limit) {
      const { rows: ids } = await db.query<{ id: number }>(
        'SELECT id FROM ingest_log WHERE id > $1 ORDER BY id LIMIT $2', [after, limit]);
      const batch = new Map<number, IngestRow | undefined>(ids.map(({ id }) => [id, recent.get(id)]));
      const missing = ids.filter(({ id }) => !batch.get(id)).map(({ id }) => id);
      if (missing.length > 0) {
        const { rows } = await db.query<IngestRow>(
          `SELECT ${INGEST_ROW_COLUMNS} FROM ingest_log WHERE id = ANY($1::bigint[])`, [missing]);
        for (const row of rows) {
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
    },
    remember(rows) {
      for (const row of rows) keep(row);
      evict();
    },
  };
}
