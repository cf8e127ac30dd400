import pg from 'pg';
import { probeHealth } from '../../types.ts';
import type { QueryResult, RelationalStore, SqlExecutor } from '../types.ts';

// Return int8 and numeric as JS numbers: sequences and sizes here stay below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PgStoreOptions {
  connectionString: string;
  maxConnections?: number;
}

// Queries go unnamed (no `name:`): a named prepared statement lives on one server connection, and
// behind PgBouncer in transaction mode the next transaction may run on another (test/engines/pgbouncer.test.ts).
function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      const result = await client.query(sql, params as unknown[] | undefined);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
  };
}

/** PostgreSQL through a `pg` pool. */
export function createPgStore(options: PgStoreOptions): RelationalStore {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  const base = executor(pool);

  return {
    engine: 'postgres',
    query: base.query,
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      // The pool only listens for errors on idle clients: a checked-out one whose connection dies
      // (database restart mid-transaction) would throw an unhandled 'error' and end the process.
      // The failing query rejects anyway; the broken client is released as such and discarded.
      let broken: Error | undefined;
      const onError = (error: Error) => void (broken = error);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    health: () => probeHealth('postgres', () => pool.query('SELECT 1')),
    async close() {
      await pool.end();
    },
  };
}
