import { describe, expect, it } from 'vitest';
import { compileNamed, compileOnce, typed } from './kysely.ts';
import type { SqlExecutor } from './types.ts';

describe('compileOnce', () => {
  const AFTER = -1;
  const LIMIT = -2;

  it('returns the typed query as PostgreSQL text with snake_case columns and numbered parameters', () => {
    const text = compileOnce((db) => db.selectFrom('ingestLog').select(['id', 'deviceId']).where('id', '>', AFTER).orderBy('id').limit(LIMIT), [AFTER, LIMIT]);
    expect(text).toBe('select "id", "device_id" from "ingest_log" where "id" > $1 order by "id" limit $2');
  });

  it('refuses placeholders given in another order than the query binds them, so no call passes a value to the wrong parameter', () => {
    expect(() => compileOnce((db) => db.selectFrom('ingestLog').select('id').where('id', '>', AFTER).limit(LIMIT), [LIMIT, AFTER]))
      .toThrow(/not in the order given/);
    expect(() => compileOnce((db) => db.selectFrom('ingestLog').select('id').where('id', '>', AFTER).limit(LIMIT), [AFTER]))
      .toThrow(/not in the order given/);
  });
});

describe('typed', () => {
  /** An executor that records what it is asked and answers with snake_case rows, as PostgreSQL does. */
  function recordingExecutor(rows: Record<string, unknown>[]) {
    const asked: { text: string; params: readonly unknown[] }[] = [];
    const executor = { query: async (text: string, params: readonly unknown[] = []) => { asked.push({ text, params }); return { rows, rowCount: rows.length }; } };
    return { executor: executor as unknown as SqlExecutor, asked };
  }

  it('runs each query on the executor it was built for, with snake_case SQL and camelCase rows', async () => {
    // Instances share one compiler and plugin: each must still run on its own executor.
    const store = recordingExecutor([{ device_id: 'a', last_seq: '3' }]);
    const transaction = recordingExecutor([{ device_id: 'b', last_seq: '4' }]);
    const fromStore = await typed(store.executor).selectFrom('deviceIngestState').select(['deviceId', 'lastSeq']).where('deviceId', '=', 'a').execute();
    const fromTransaction = await typed(transaction.executor).selectFrom('deviceIngestState').select(['deviceId', 'lastSeq']).where('deviceId', '=', 'b').execute();
    expect(fromStore).toEqual([{ deviceId: 'a', lastSeq: '3' }]);
    expect(fromTransaction).toEqual([{ deviceId: 'b', lastSeq: '4' }]);
    expect(store.asked).toEqual([{ text: 'select "device_id", "last_seq" from "device_ingest_state" where "device_id" = $1', params: ['a'] }]);
    expect(transaction.asked).toEqual([{ text: 'select "device_id", "last_seq" from "device_ingest_state" where "device_id" = $1', params: ['b'] }]);
    expect(typed(store.executor)).toBe(typed(store.executor));
  });

  it("refuses Kysely's own transactions: they would bypass the store's (PgBouncer, PGlite's one connection)", async () => {
    const { executor, asked } = recordingExecutor([]);
    await expect(typed(executor).transaction().execute(async () => undefined)).rejects.toThrow(/RelationalStore.transaction/);
    expect(asked).toEqual([]);
  });
});

describe('compileNamed', () => {
  it('binds by name whatever order and repetition the SQL has', () => {
    const query = compileNamed({ id: '\u0000id', limit: -1 }, (db, p) => db.selectFrom('ingestLog').select('id')
      .where('id', '>', p.limit).where('deviceId', '=', p.id).where('deviceId', '<>', p.id).limit(p.limit));
    expect(query.sql).toBe('select "id" from "ingest_log" where "id" > $1 and "device_id" = $2 and "device_id" <> $3 limit $4');
    expect(query.bind({ id: 'd', limit: 5 })).toEqual([5, 'd', 'd', 5]);
  });

  it('refuses placeholders that are not distinct, and parameters that are no placeholder', () => {
    expect(() => compileNamed({ a: 1, b: 1 }, (db, p) => db.selectFrom('ingestLog').select('id').where('id', '>', p.a))).toThrow(/distinct/);
    expect(() => compileNamed({ a: 1 }, (db) => db.selectFrom('ingestLog').select('id').where('id', '>', 7))).toThrow(/no placeholder/);
  });
});
