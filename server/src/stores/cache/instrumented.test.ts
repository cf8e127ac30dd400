import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../platform/obs/metrics.ts';
import { instrumentRelationalStore, sqlOperation } from '../relational/instrumented.ts';
import { createMemoryCache } from './memory/memory-cache.ts';
import { instrumentCacheStore, keyFamily } from './instrumented.ts';
import { parseMemoryInfo } from './redis/redis-cache.ts';
import type { RelationalStore } from '../relational/types.ts';
import type { SlowQuery } from '../../platform/obs/query-observer.ts';

const silent = pino({ level: 'silent' });

describe('store instrumentation', () => {
  it('labels a key by its family, never by the id in it', () => {
    expect(keyFamily('device:latest:0b5c2a4e-8f3d-4a51-9c1e-2f6b7d8e9a01')).toBe('device');
    expect(keyFamily('api:devices:7d1e0c3b')).toBe('api');
    expect(keyFamily('0b5c2a4e-8f3d')).toBe('other');
    expect(keyFamily('')).toBe('other');
  });

  it('labels a statement by its first keyword, from a bounded set', () => {
    expect(sqlOperation('SELECT 1')).toBe('select');
    expect(sqlOperation('  \n(select 1) UNION (select 2)')).toBe('select');
    expect(sqlOperation('-- why\n/* and */ INSERT INTO x VALUES (1)')).toBe('insert');
    expect(sqlOperation('WITH a AS (SELECT 1) SELECT * FROM a')).toBe('with');
    expect(sqlOperation('EXPLAIN SELECT 1')).toBe('other');
    expect(sqlOperation('')).toBe('other');
  });

  it('reads Redis INFO memory, and says null where Dragonfly has no dataset figure', () => {
    expect(parseMemoryInfo('# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nused_memory_dataset:40960\r\n'))
      .toEqual({ usedBytes: 1_048_576, datasetBytes: 40_960 });
    expect(parseMemoryInfo('# Memory\r\nused_memory:2048\r\n')).toEqual({ usedBytes: 2_048, datasetBytes: null });
  });

  it('counts each key read as a hit or a miss and keeps the ratio', async () => {
    const metrics = createMetrics();
    const cache = instrumentCacheStore(createMemoryCache(), { metrics, log: silent, slowQueryMs: 60_000 });
    await cache.set('device:latest:a', '1');
    await cache.get('device:latest:a');
    await cache.get('device:latest:b');
    await cache.mget(['device:latest:a', 'device:latest:a', 'api:devices:x']);
    const reads = (await metrics.cacheReads.get()).values.map((value) => [value.labels.family, value.labels.result, value.value]);
    expect(reads).toEqual(expect.arrayContaining([['device', 'hit', 3], ['device', 'miss', 1], ['api', 'miss', 1]]));
    expect((await metrics.cacheHitRatio.get()).values[0]!.value).toBeCloseTo(3 / 5);
  });

  it('times statements inside transactions too, and reports a slow one with its text, not its values', async () => {
    const metrics = createMetrics();
    const slow: SlowQuery[] = [];
    const fake: RelationalStore = {
      engine: 'postgres',
      query: async () => { await new Promise((resolve) => setTimeout(resolve, 30)); return { rows: [], rowCount: 0 }; },
      exec: async () => undefined,
      transaction: (fn) => fn(fake),
      health: async () => ({ ok: true, engine: 'postgres', latencyMs: 0 }),
      close: async () => undefined,
    };
    const db = instrumentRelationalStore(fake, { metrics, log: silent, slowQueryMs: 10, onSlowQuery: (query) => slow.push(query) });
    await db.transaction((tx) => tx.query('UPDATE devices SET name = $1 WHERE id = $2', ['secret name', 'x']));
    expect(slow).toEqual([expect.objectContaining({ store: 'relational', operation: 'update', query: 'UPDATE devices SET name = $1 WHERE id = $2' })]);
    expect(JSON.stringify(slow)).not.toContain('secret name');
    const counts = (await metrics.storeQueryLatency.get()).values.filter((value) => value.metricName?.endsWith('_count'));
    expect(counts.map((value) => [value.labels.store, value.labels.operation, value.value])).toEqual([['relational', 'update', 1]]);
  });
});
