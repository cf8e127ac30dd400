import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createMetrics } from '../../platform/obs/metrics.ts';
import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import { createApiCallRecorder, type ApiCallRow } from './api-call-recorder.ts';

const call = (i: number): ApiCallRow => ({
  timestamp: 1_700_000_000 + i, organization_id: '11111111-1111-4111-8111-111111111111', endpoint: 'devices.list', method: 'query',
  status_code: 200, response_time_ms: i, user_id: '00000000-0000-0000-0000-000000000000', source: 'person',
});

/** An in-memory stand-in for the store's insert; it can be switched off to act as an outage. */
function fakeStore() {
  const written: object[][] = [];
  let up = true;
  const store = {
    engine: 'chdb',
    async insert(_table: string, rows: readonly object[]) {
      if (!up) throw new Error('connection refused');
      written.push([...rows]);
    },
  } as unknown as AnalyticsStore;
  return { store, written, setUp: (value: boolean) => { up = value; } };
}

describe('api_calls recorder', () => {
  it('writes in batches of batchRows and on the timer', async () => {
    const { store, written } = fakeStore();
    const metrics = createMetrics();
    const recorder = createApiCallRecorder(store, { flushMs: 50, batchRows: 3, maxRows: 100, metrics, log: pino({ level: 'silent' }) });
    for (let i = 0; i < 4; i++) recorder.record(call(i));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(written.map((batch) => batch.length)).toEqual([3, 1]);
    await recorder.close();
  });

  it('keeps rows while the store is down, drops past the bound and counts the drops, then catches up', async () => {
    const { store, written, setUp } = fakeStore();
    const metrics = createMetrics();
    const recorder = createApiCallRecorder(store, { flushMs: 60_000, batchRows: 2, maxRows: 5, metrics, log: pino({ level: 'silent' }) });
    setUp(false);
    for (let i = 0; i < 8; i++) recorder.record(call(i));
    await recorder.flush();
    expect(written).toEqual([]);
    expect((await metrics.apiCallsDropped.get()).values[0]!.value).toBe(3);
    setUp(true);
    await recorder.flush();
    expect(written.flat().map((row) => (row as ApiCallRow).response_time_ms)).toEqual([0, 1, 2, 3, 4]);
    await recorder.close();
  });
});
