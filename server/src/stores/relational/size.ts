import type { SqlExecutor } from './types.ts';

/** The database's size on disk, for `ninjait_store_size_bytes{store="relational"}`. */
export async function relationalSizeBytes(db: SqlExecutor): Promise<number> {
  const { rows } = await db.query<{ bytes: number }>('SELECT pg_database_size(current_database())::bigint AS bytes');
  return Number(rows[0]?.bytes ?? 0);
}
