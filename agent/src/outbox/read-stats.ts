import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { toStats } from './outbox.ts';
import type { MetaRow } from './sql.ts';
import type { OutboxStats } from './types.ts';

/**
 * Reads the counters without writing anything, for `status` while `run` holds the file
 * (WAL lets readers run beside the writer). Returns null when there is no outbox yet.
 */
export function readOutboxStats(file: string): OutboxStats | null {
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const m = db.prepare<[], MetaRow>('SELECT next_seq, dropped_total, buffered_records, buffered_bytes FROM meta WHERE id = 1').get();
    if (!m) return null;
    const t = db.prepare<[], { t: number | null }>('SELECT collected_at AS t FROM records ORDER BY seq LIMIT 1').get();
    return toStats(m, t?.t ?? null);
  } finally {
    db.close();
  }
}
