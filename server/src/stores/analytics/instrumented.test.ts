import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../platform/obs/metrics.ts';
import { instrumentAnalytics } from './instrumented.ts';
import type { AnalyticsStore } from './types.ts';

const slowStore: AnalyticsStore = {
  engine: 'clickhouse',
  exec: async () => undefined,
  query: async <Row>() => [] as Row[],
  insert: async () => undefined,
  health: async () => ({ ok: true, engine: 'clickhouse', latencyMs: 0 }),
  close: async () => undefined,
};

describe('slow analytics query log', () => {
  it('shows the statement without its string literals: an archive to S3 carries the secret key in one', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(chunk.toString()), done()) });
    const store = instrumentAnalytics(slowStore, { metrics: createMetrics(), log: pino({ level: 'warn' }, sink), slowQueryMs: 0 });
    await store.exec("INSERT INTO FUNCTION s3('https://s3.example/b/api_calls/202401.parquet', 'AKIAEXAMPLE', 'wJalr\\'XUtnFEMI/K7MDENG', 'Parquet') SELECT * FROM api_calls WHERE _partition_id = '202401'");
    await store.query("SELECT count() FROM t WHERE name = 'it''s private' AND id = {id:UUID}");
    const logged = lines.map((line) => JSON.parse(line) as { msg: string; sql: string });
    expect(logged.map((entry) => entry.msg)).toEqual(['slow analytics query', 'slow analytics query']);
    expect(logged[0]!.sql).toBe("INSERT INTO FUNCTION s3('…', '…', '…', '…') SELECT * FROM api_calls WHERE _partition_id = '…'");
    expect(logged[1]!.sql).toBe("SELECT count() FROM t WHERE name = '…' AND id = {id:UUID}");
    expect(lines.join('')).not.toMatch(/AKIAEXAMPLE|wJalr|XUtnFEMI|private/);
  });

  it('hides a literal cut by the length bound or left open, and bounds the text', async () => {
    const { loggableSql } = await import('./instrumented.ts');
    expect(loggableSql(`SELECT '${'x'.repeat(5_000)}secret'`)).toBe("SELECT '…'");
    expect(loggableSql("SELECT 'open secret")).toBe("SELECT '…");
    expect(loggableSql(`SELECT ${'1, '.repeat(3_000)}1`)).toHaveLength(4_000);
  });
});
