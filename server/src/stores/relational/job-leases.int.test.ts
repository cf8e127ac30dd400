import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { createScheduler, type Job } from '../../platform/scheduler/scheduler.ts';
import { createJobLeases, migrate, openRelationalStore, type RelationalStore } from './index.ts';

const log = pino({ level: 'silent' });

/** Resolves once `check` holds, polling; the test's own timeout bounds the wait (no timed assertion). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe.each(relationalEngines())('the scheduler and its job leases on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-leases-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a lease to one instance until it is released or expires', async () => {
    const leases = createJobLeases(db);
    expect(await leases.acquire('rollup', 'a', 60_000)).toBe(true);
    expect(await leases.acquire('rollup', 'b', 60_000)).toBe(false);
    // The holder may renew its own lease.
    expect(await leases.acquire('rollup', 'a', 60_000)).toBe(true);
    await leases.release('rollup', 'a');
    expect(await leases.acquire('rollup', 'b', 60_000)).toBe(true);
    // An instance that died holding a lease does not block the job forever: an expired lease is free.
    await db.query(`UPDATE job_leases SET lease_until = NOW() - interval '1 second' WHERE name = 'rollup'`);
    expect(await leases.acquire('rollup', 'a', 60_000)).toBe(true);
  });

  it('runs an exclusive job on one of two instances at a time, and a plain job on both', async () => {
    let active = 0;
    let mostActive = 0;
    let plainRuns = 0;
    const ranOn = { exclusive: new Set<string>(), plain: new Set<string>() };
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const jobsOf = (instance: string): Job[] => [
      {
        name: 'exclusive-test', everyMs: 10, exclusive: true, async run() {
          active += 1;
          mostActive = Math.max(mostActive, active);
          ranOn.exclusive.add(instance);
          await held; // holds the lease while the other instance's timer keeps firing
          active -= 1;
        },
      },
      { name: 'plain-test', everyMs: 10, run: async () => void (plainRuns += 1, ranOn.plain.add(instance)) },
    ];
    const instances = ['a', 'b'].map((instanceId) => {
      const scheduler = createScheduler({ log, instanceId, leases: createJobLeases(db) });
      scheduler.register(...jobsOf(instanceId));
      scheduler.start();
      return scheduler;
    });
    try {
      await until(() => ranOn.exclusive.size === 1 && ranOn.plain.size === 2);
      // Both instances' timers fire many more times while the first run holds the lease: still one run at a time.
      const plainRunsBefore = plainRuns;
      await until(() => plainRuns >= plainRunsBefore + 10);
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_leases WHERE name = 'exclusive-test' AND lease_until > NOW()`);
      expect(rows[0]!.n).toBe(1);
      expect(active).toBe(1);
    } finally {
      release();
      await Promise.all(instances.map((scheduler) => scheduler.stop()));
    }
    expect(mostActive).toBe(1);
    expect(active).toBe(0);
    // Stopping released the lease: the next run anywhere may take it.
    expect(await createJobLeases(db).acquire('exclusive-test', 'c', 60_000)).toBe(true);
  });

  it('refuses a job name registered twice', () => {
    const scheduler = createScheduler({ log, instanceId: 'a', leases: createJobLeases(db) });
    const job: Job = { name: 'twice', everyMs: 1_000, run: async () => undefined };
    scheduler.register(job);
    expect(() => scheduler.register(job)).toThrow(/registered twice/);
    expect(scheduler.names).toEqual(['twice']);
  });
});
