import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEngines, relationalEngines } from '../../test-support/databases.ts';
import { startHarness, type Client, type Harness } from '../../test-support/harness.ts';
import { cacheHitRate } from './system.router.ts';

const combos = relationalEngines().flatMap((relational) => cacheEngines().map((cache) => ({ relational, cache })))
  // Each relational engine with its matching cache: the embedded pair and PostgreSQL + Redis.
  .filter(({ relational, cache }) => (relational === 'postgres') === (cache === 'redis') || cacheEngines().length === 1 || relationalEngines().length === 1);

/** Above anything the harness does on a busy machine (two cores shared by many processes), below the sleep below. */
const SLOW_QUERY_MS = 4_000;
const SLEEP_SEC = 4.5;
const SELECT_KEY = 'slow_query:relational:select';

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(combos)('store monitoring on $relational + $cache', ({ relational, cache }) => {
  let h: Harness;
  let installAdmin: Client;
  let tenantOwner: Client;
  const metricsText = async () => (await fetch(`${h.server.url}/metrics`)).text();

  beforeAll(async () => {
    h = await startHarness({ relational, cache, env: { SLOW_QUERY_MS: String(SLOW_QUERY_MS), STORE_SIZE_SAMPLE_MS: '1000', RATE_LIMIT_MAX: '1000', RATE_LIMIT_READ_MAX: '100000' } });
    // The first organization runs the install; its admins see the server's side of the System page.
    await h.admin.admin.organizations.create.mutate({ name: 'Operator' });
    await h.admin.admin.organizations.create.mutate({ name: 'Tenant' });
    await h.admin.admin.users.create.mutate({ org: 'Operator', email: 'admin@operator.test', password: 'correct horse battery', role: 'admin' });
    await h.admin.admin.users.create.mutate({ org: 'Tenant', email: 'owner@tenant.test', password: 'correct horse battery', role: 'owner' });
    const login = async (email: string) =>
      h.http({ authorization: `Bearer ${(await h.http().auth.login.mutate({ email, password: 'correct horse battery' })).sessionToken}` });
    installAdmin = await login('admin@operator.test');
    tenantOwner = await login('owner@tenant.test');
  }, 240_000);
  afterAll(() => h?.stop(), 60_000);

  it('exports query latency for the relational store and the cache, and the cache\'s size on Redis', async () => {
    await installAdmin.devices.list.query({});
    // Sizes are sampled every second here; the first sample can come before Redis is connected.
    const text = await until(metricsText, (body) => cache === 'memory' || /ninjait_cache_keys [1-9]/.test(body));
    expect(text).toMatch(/ninjait_store_query_duration_seconds_count\{store="relational",operation="select"\} [1-9]/);
    expect(text).toMatch(/ninjait_store_query_duration_seconds_count\{store="relational",operation="insert"\} [1-9]/);
    // Sessions are read from the cache on every request.
    expect(text).toMatch(/ninjait_store_query_duration_seconds_count\{store="cache",operation="get"\} [1-9]/);
    expect(text).toMatch(/ninjait_cache_reads_total\{family="[a-z_-]+",result="(hit|miss)"\} [1-9]/);
    expect(text).toMatch(/ninjait_cache_hit_ratio (0|1|0\.\d+)\n/);
    expect(text).toMatch(/ninjait_store_size_bytes\{store="relational"\} [1-9]/);
    if (cache === 'redis') {
      expect(text).toMatch(/ninjait_store_size_bytes\{store="cache"\} [1-9]/);
      expect(text).toMatch(/ninjait_cache_keys [1-9]/);
      expect(text).toMatch(/ninjait_cache_dataset_bytes \d+/);
    }
  });

  it('moves the hit rate with each hit and miss of the cache port, as the System page shows it', async () => {
    const { cache: store, metrics } = h.server.services;
    const before = await cacheHitRate(metrics);
    const key = `monitoring:${Date.now()}`;
    expect(await store.get(key)).toBeNull();
    await store.set(key, 'v', 60);
    expect(await store.mget([key, key, `${key}:absent`])).toEqual(['v', 'v', null]);
    const after = await cacheHitRate(metrics);
    // Other reads (sessions, the scheduler) may happen meanwhile: at least ours are counted.
    expect(after.hits - before.hits).toBeGreaterThanOrEqual(2);
    expect(after.misses - before.misses).toBeGreaterThanOrEqual(2);
    const ratioLine = /ninjait_cache_hit_ratio ([\d.e-]+)/.exec(await metricsText())![1]!;
    const now = await cacheHitRate(metrics);
    expect(Number(ratioLine)).toBeCloseTo(now.hits / (now.hits + now.misses), 2);

    const before2 = await cacheHitRate(metrics);
    for (let i = 0; i < 20; i++) await store.get(key);
    expect((await cacheHitRate(metrics)).ratio!).toBeGreaterThan(before2.ratio!);
    await store.del([key]);

    const page = await installAdmin.system.status.query();
    expect(page.server?.cache).toMatchObject({ target: 0.95 });
    expect(page.server?.cache.ratio).toBeGreaterThan(0);
  });

  it('raises a slow query as one system alert however often it recurs, for the operator only', async () => {
    const { db } = h.server.services;
    const alerts = () => db.query<{ dedupeKey: string; occurrences: number; state: string; details: { query: string } }>(
      `SELECT dedupe_key AS "dedupeKey", occurrences, state, details FROM system_alerts WHERE dedupe_key = $1`, [SELECT_KEY]).then((result) => result.rows);
    expect(await alerts()).toEqual([]);
    await db.query(`SELECT pg_sleep(${SLEEP_SEC}) AS first_slow`);
    const opened = await until(alerts, (rows) => rows.length > 0);
    expect(opened.map((row) => [row.dedupeKey, row.state, row.occurrences])).toEqual([[SELECT_KEY, 'open', 1]]);
    expect(opened[0]!.details.query).toContain('pg_sleep');

    await db.query(`SELECT pg_sleep(${SLEEP_SEC}) AS second_slow`);
    const counted = await until(alerts, (rows) => (rows[0]?.occurrences ?? 0) >= 2);
    expect(counted.map((row) => [row.dedupeKey, row.occurrences])).toEqual([[SELECT_KEY, 2]]);

    const logged = /ninjait_store_slow_queries_total\{store="relational"\} (\d+)/.exec(await metricsText());
    expect(Number(logged?.[1])).toBeGreaterThanOrEqual(2);
    const page = await installAdmin.system.status.query();
    const shown = page.server?.alerts.find((alert) => alert.title.startsWith('Slow relational queries (select)'));
    expect(shown).toMatchObject({ kind: 'slow_query', state: 'open', occurrences: 2 });
    expect(shown?.title).toContain(`over the ${SLOW_QUERY_MS} ms limit`);
    expect(shown?.query).toContain('pg_sleep');
    expect((await tenantOwner.system.status.query()).server).toBeNull();
  }, 60_000);
});
