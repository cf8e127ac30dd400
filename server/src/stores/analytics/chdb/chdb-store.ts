import { createRequire } from 'node:module';
import { chmodSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StoreHealth } from '../../types.ts';
import { assertIdentifier, normaliseParams, type AnalyticsStore } from '../types.ts';

interface ChdbResult { text(): string }
interface ChdbSession {
  queryAsync(sql: string, opts?: { format?: string }): Promise<ChdbResult>;
  queryBindAsync(sql: string, params: object, opts?: { format?: string }): Promise<ChdbResult>;
  insert(params: { table: string; columns: string[]; values: string; format: 'JSONCompactEachRow'; settings?: Record<string, string | number> }): Promise<unknown>;
  close(): void;
}

const require = createRequire(import.meta.url);

/**
 * chdb allows one session per data folder per process (a second one fails on a lock),
 * so every store opened on the same folder shares one session, closed with the last user.
 */
const sessions = new Map<string, { session: ChdbSession; users: number }>();

function acquire(dir: string): ChdbSession {
  const existing = sessions.get(dir);
  if (existing) {
    existing.users += 1;
    return existing.session;
  }
  // ClickHouse's own files follow the process umask (owner-only under `serve` and `start`); the
  // folder is private whatever it is, so nothing in it is reachable by another local account.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const { Session } = require('chdb') as { Session: new (path: string) => ChdbSession };
  const session = new Session(dir);
  sessions.set(dir, { session, users: 1 });
  return session;
}

function release(dir: string) {
  const entry = sessions.get(dir);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  sessions.delete(dir);
  entry.session.close();
}

const parseRows = <Row>(text: string): Row[] =>
  text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Row);

/** ClickHouse in process; every call runs on a libuv thread (queryAsync), off the event loop. */
export function createChdbStore(dataDir: string): AnalyticsStore {
  const dir = resolve(dataDir);
  const session = acquire(dir);
  let closed = false;
  const live = () => {
    if (closed) throw new Error('The chdb analytics store is closed');
    return session;
  };
  const run = (sql: string, params: Parameters<typeof normaliseParams>[0], format: string) =>
    params && Object.keys(params).length > 0
      ? live().queryBindAsync(sql, normaliseParams(params), { format })
      : live().queryAsync(sql, { format });

  return {
    engine: 'chdb',
    async exec(sql, params) {
      await run(sql, params, 'JSONEachRow');
    },
    async query<Row>(sql: string, params?: Parameters<typeof normaliseParams>[0]) {
      return parseRows<Row>((await run(sql, params, 'JSONEachRow')).text());
    },
    async insert(table, rows, options = {}) {
      if (rows.length === 0) return;
      // Arrays, not objects: no key names to write and parse per row (the rows of one insert share a shape).
      const columns = Object.keys(rows[0]!);
      await live().insert({
        table: assertIdentifier(table),
        columns,
        values: rows.map((row) => JSON.stringify(columns.map((column) => (row as Record<string, unknown>)[column]))).join('\n'),
        format: 'JSONCompactEachRow',
        settings: options.dedupToken ? { insert_deduplication_token: options.dedupToken } : {},
      });
    },
    async health(): Promise<StoreHealth> {
      const started = performance.now();
      try {
        await live().queryAsync('SELECT 1', { format: 'JSONEachRow' });
        return { ok: true, engine: 'chdb', latencyMs: Math.round(performance.now() - started) };
      } catch (error) {
        return { ok: false, engine: 'chdb', error: error instanceof Error ? error.message : String(error) };
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      release(dir);
    },
  };
}
