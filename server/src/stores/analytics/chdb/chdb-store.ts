import { resolve } from 'node:path';
import type { StoreHealth } from '../../types.ts';
import { assertIdentifier, normaliseParams, type AnalyticsStore } from '../types.ts';
import cluster from 'node:cluster';
import { startChdbProcess, type ChdbProcess } from './chdb-process.ts';
import { chdbThroughPrimary } from './chdb-relay.ts';

/**
 * chdb allows one session per data folder (a second one fails on the folder's lock), so every
 * store opened on the same folder in this process shares one chdb process, ended with the last
 * user. A server worker (WORKERS > 1) reaches the one its primary runs (chdb-relay.ts).
 */
const hosts = new Map<string, { host: ChdbProcess; users: number }>();

/** The folder's chdb for this process, shared with every other user of it here; `releaseChdbHost` when done. */
export function acquireChdbHost(dir: string): ChdbProcess {
  const existing = hosts.get(dir);
  if (existing) {
    existing.users += 1;
    return existing.host;
  }
  const host = cluster.isWorker ? chdbThroughPrimary(dir) : startChdbProcess(dir);
  hosts.set(dir, { host, users: 1 });
  return host;
}

export async function releaseChdbHost(dir: string) {
  const entry = hosts.get(dir);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  hosts.delete(dir);
  await entry.host.close();
}

const parseRows = <Row>(text: string): Row[] =>
  text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Row);

/** ClickHouse embedded: chdb in a child process of the server (chdb-host.ts), one per folder. */
export function createChdbStore(dataDir: string): AnalyticsStore {
  const dir = resolve(dataDir);
  const host = acquireChdbHost(dir);
  let closed = false;
  const live = () => {
    if (closed) throw new Error('The chdb analytics store is closed');
    return host;
  };
  const run = (sql: string, params: Parameters<typeof normaliseParams>[0], format: string) =>
    live().call({ kind: 'query', sql, params: params && Object.keys(params).length > 0 ? normaliseParams(params) : null, format });

  return {
    engine: 'chdb',
    async exec(sql, params) {
      await run(sql, params, 'JSONEachRow');
    },
    async query<Row>(sql: string, params?: Parameters<typeof normaliseParams>[0]) {
      return parseRows<Row>(await run(sql, params, 'JSONEachRow'));
    },
    async insert(table, rows, options = {}) {
      if (rows.length === 0) return;
      // Arrays, not objects: no key names to write and parse per row (the rows of one insert share a shape).
      const columns = Object.keys(rows[0]!);
      await live().call({
        kind: 'insert',
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
        await run('SELECT 1', undefined, 'JSONEachRow');
        return { ok: true, engine: 'chdb', latencyMs: Math.round(performance.now() - started) };
      } catch (error) {
        return { ok: false, engine: 'chdb', error: error instanceof Error ? error.message : String(error) };
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await releaseChdbHost(dir);
    },
  };
}
