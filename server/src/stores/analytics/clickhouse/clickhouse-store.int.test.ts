import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickhouseStore } from './clickhouse-store.ts';

// Transport only: CI's server is Debian's ClickHouse 18.16 (no query parameters, TTL or DateTime64),
// so the analytics SQL itself is tested on chdb. Start one with .ci/start-clickhouse.sh DIR.
const url = process.env.CLICKHOUSE_TEST_URL;
if (!url) console.warn('CLICKHOUSE_TEST_URL is not set: skipping the @clickhouse/client adapter test (start one with .ci/start-clickhouse.sh)');

describe.skipIf(!url)('@clickhouse/client adapter against a ClickHouse server', () => {
  const store = createClickhouseStore({ url: url || 'http://127.0.0.1:8123' });
  const table = `ninjait_transport_${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    await store.exec(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await store.close();
  });

  it('pings, creates a table, inserts JSONEachRow and reads it back', async () => {
    expect(await store.health()).toMatchObject({ ok: true, engine: 'clickhouse' });
    await store.exec(`CREATE TABLE ${table} (id UInt32, name String, at DateTime) ENGINE = MergeTree() ORDER BY id`);
    await store.insert(table, [
      { id: 1, name: 'a', at: '2025-03-01 10:00:00' },
      { id: 2, name: "o'b", at: '2025-03-01T11:00:00Z' },
    ]);
    const rows = await store.query<{ id: number; name: string }>(`SELECT id, name FROM ${table} ORDER BY id`);
    expect(rows.map((row) => [Number(row.id), row.name])).toEqual([[1, 'a'], [2, "o'b"]]);
    const [count] = await store.query<{ n: number | string }>(`SELECT count() AS n FROM ${table}`);
    expect(Number(count!.n)).toBe(2);
  });
});

describe('@clickhouse/client adapter with nothing listening', () => {
  it('reports unhealthy and rejects queries (the sink turns that into a retryable failure)', async () => {
    const store = createClickhouseStore({ url: 'http://127.0.0.1:1', requestTimeoutMs: 2_000 });
    expect(await store.health()).toMatchObject({ ok: false, engine: 'clickhouse' });
    await expect(store.query('SELECT 1')).rejects.toThrow();
    await store.close();
  });
});
