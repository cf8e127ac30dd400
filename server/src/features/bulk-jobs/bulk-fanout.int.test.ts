import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';
import { startHarness, type Harness } from '../../../test-support/harness.ts';
import { readLocalAdminToken } from '../auth/local-admin.ts';
import { createTenant, until, type Tenant } from '../../../test-support/command-fixtures.ts';
import { createCommandService, type Auditor, type CommandService } from '../commands/index.ts';
import { createBulkJobService, type BulkJobService } from './bulk-service.ts';

const ready = relationalEngines().includes('postgres') && cacheEngines().includes('redis');

/**
 * The fan-out's promises across instances, on PostgreSQL and Redis: the server under test is
 * instance A; instance B is a second set of command and bulk-job services on the same database
 * and cache (as another server process builds them). Devices have no agent: their commands stay
 * queued, and a test plays the agent by marking a command sent and reporting its result through
 * the agent path (`commands.agent.result`), as a device's socket does.
 */
describe.skipIf(!ready)('bulk jobs as a fan-out', () => {
  let h: Harness;
  let x: Tenant;
  let b: { commands: CommandService; jobs: BulkJobService };
  /** An instance whose bulk-job service is gone (it crashed): it records results but settles no target. */
  let crashed: CommandService;
  const devices: string[] = [];

  const query = async <Row>(sql: string, params: unknown[] = []) => (await h.server.services.db.query<Row>(sql, params)).rows;
  const count = async (sql: string, params: unknown[] = []) => (await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0]!.n;
  const targetsOf = (jobId: string) =>
    query<{ deviceId: string; status: string; attempts: number; commandId: string | null; exitCode: number | null; error: string | null }>(
      `SELECT device_id AS "deviceId", status, attempts, command_id AS "commandId", exit_code AS "exitCode", error
       FROM bulk_job_targets WHERE job_id = $1 ORDER BY device_id`, [jobId]);
  /** Plays the device's agent: its command was delivered, then it reports `exitCode`. */
  const report = async (via: CommandService, commandId: string, exitCode: number) => {
    const [row] = await query<{ deviceId: string }>(
      `UPDATE commands SET status = 'sent', sent_at = NOW(), delivery_count = delivery_count + 1 WHERE id = $1 AND status = 'queued' RETURNING device_id AS "deviceId"`,
      [commandId]);
    const deviceId = row?.deviceId ?? (await query<{ deviceId: string }>('SELECT device_id AS "deviceId" FROM commands WHERE id = $1', [commandId]))[0]!.deviceId;
    return via.agent.result(deviceId, commandId, { status: exitCode === 0 ? 'succeeded' : 'failed', exitCode, error: null });
  };
  const instance = () => {
    const { db, cache, log, events, audit } = h.server.services;
    const auditor: Auditor = (ip, event) => audit({ ip }, event);
    const commands = createCommandService({ db, cache, log, audit: auditor, events });
    return commands;
  };

  beforeAll(async () => {
    h = await startHarness({ relational: 'postgres', cache: 'redis', env: { RATE_LIMIT_MAX: '100000' } });
    x = await createTenant(h.server.url, (await readLocalAdminToken(h.dataDir))!, 'Org Fan');
    for (let i = 0; i < 8; i++) devices.push((await x.enroll(`fan-${i}`)).deviceId);
    const commands = instance();
    const { db, log, audit } = h.server.services;
    b = { commands, jobs: createBulkJobService({ db, commands, log, audit: (ip, event) => audit({ ip }, event) }) };
    crashed = instance();
  }, 60_000);

  afterAll(async () => {
    await b?.jobs.close();
    await h?.stop();
  });

  it('never runs more than the concurrency at once, with waves and results on two instances', async () => {
    const job = await x.technician.jobs.create.mutate({ deviceIds: devices, concurrency: 3, script: 'echo fan' });
    const instances = [h.server.services, b];
    let maxActive = 0;
    const watch = async () => {
      const active = await count(`bulk_job_targets WHERE job_id = $1 AND status IN ('enqueued', 'running')`, [job.id]);
      const running = await count(`commands WHERE bulk_job_id = $1 AND status NOT IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'expired')`, [job.id]);
      maxActive = Math.max(maxActive, active, running);
    };
    for (let round = 0; round < 20; round++) {
      // Both instances start waves at once, again and again: the job's lock makes them take turns.
      await Promise.all([...instances.flatMap((i) => [i.jobs.drive(job.id), i.jobs.drive(job.id)]), watch()]);
      await watch();
      const open = await query<{ id: string }>(`SELECT id FROM commands WHERE bulk_job_id = $1 AND status = 'queued' ORDER BY id`, [job.id]);
      if (open.length === 0 && (await h.server.services.jobs.status(null, job.id)).status === 'completed') break;
      // Results arrive on both instances together; each settles its target and starts the next wave.
      await Promise.all(open.map((command, i) => report(instances[i % 2]!.commands, command.id, 0)));
    }
    await until(async () => (await h.server.services.jobs.status(null, job.id)).status === 'completed', 10_000, 50);
    expect(maxActive).toBeGreaterThan(0);
    expect(maxActive).toBeLessThanOrEqual(3);
    const targets = await targetsOf(job.id);
    expect(targets.every((t) => t.status === 'succeeded' && t.attempts === 1 && t.exitCode === 0)).toBe(true);
    // One command per device: no wave claimed a device twice.
    expect(await count('commands WHERE bulk_job_id = $1', [job.id])).toBe(devices.length);
    expect(await count('(SELECT DISTINCT device_id FROM commands WHERE bulk_job_id = $1) d', [job.id])).toBe(devices.length);
  }, 60_000);

  it('a wave that dies between inserting its commands and setting its targets running leaves nothing, and runs once when re-driven', async () => {
    // The database refuses the wave's last statement, as a crash after the insert would end it: the transaction is lost whole.
    await query(`CREATE OR REPLACE FUNCTION ninjait_test_refuse_running() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.status = 'running' THEN RAISE EXCEPTION 'instance died mid-wave'; END IF; RETURN NEW; END $$`);
    await query(`CREATE TRIGGER ninjait_test_refuse_running BEFORE UPDATE ON bulk_job_targets FOR EACH ROW EXECUTE FUNCTION ninjait_test_refuse_running()`);
    let jobId: string;
    try {
      jobId = (await x.technician.jobs.create.mutate({ deviceIds: devices.slice(0, 4), concurrency: 2, script: 'echo once' })).id;
      await b.jobs.drive(jobId);
      await h.server.services.jobs.drive(jobId);
      expect(await count('commands WHERE bulk_job_id = $1', [jobId])).toBe(0);
      expect((await targetsOf(jobId)).map((t) => [t.status, t.attempts])).toEqual(Array(4).fill(['pending', 0]));
    } finally {
      await query('DROP TRIGGER ninjait_test_refuse_running ON bulk_job_targets');
      await query('DROP FUNCTION ninjait_test_refuse_running()');
    }
    // The periodic re-drive (on whichever instance holds its lease) picks the job up.
    await b.jobs.redrive();
    let targets = await targetsOf(jobId);
    expect(targets.filter((t) => t.status === 'running')).toHaveLength(2);
    expect(await count('commands WHERE bulk_job_id = $1', [jobId])).toBe(2);

    // An instance records a result and dies before settling the target: the re-drive settles it and starts the next device.
    const first = targets.find((t) => t.status === 'running')!;
    expect(await report(crashed, first.commandId!, 0)).toEqual({ accepted: true });
    expect((await targetsOf(jobId)).find((t) => t.deviceId === first.deviceId)!.status).toBe('running');
    await b.jobs.redrive();
    targets = await targetsOf(jobId);
    expect(targets.find((t) => t.deviceId === first.deviceId)).toMatchObject({ status: 'succeeded', exitCode: 0, attempts: 1 });
    expect(targets.filter((t) => t.status === 'running')).toHaveLength(2);
    expect(await count('commands WHERE bulk_job_id = $1', [jobId])).toBe(3);
    // Re-driving again changes nothing: no device gets a second command.
    await b.jobs.redrive();
    await h.server.services.jobs.redrive();
    expect(await count('commands WHERE bulk_job_id = $1', [jobId])).toBe(3);
    expect(await count('(SELECT device_id FROM commands WHERE bulk_job_id = $1 GROUP BY device_id HAVING count(*) > 1) d', [jobId])).toBe(0);
    await x.technician.jobs.cancel.mutate({ id: jobId });
  }, 60_000);

  it('retries a failed device after a backoff that doubles, without a waiting worker', async () => {
    const job = await x.technician.jobs.create.mutate({ deviceIds: [devices[7]!], retries: 2, script: 'exit 5' });
    const commandsOf = () => query<{ id: string; createdAt: Date; finishedAt: Date | null }>(
      `SELECT id, created_at AS "createdAt", finished_at AS "finishedAt" FROM commands WHERE bulk_job_id = $1 ORDER BY created_at`, [job.id]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await until(async () => (await commandsOf()).length === attempt, 15_000, 20);
      const current = (await commandsOf())[attempt - 1]!;
      await report(attempt % 2 ? b.commands : h.server.services.commands, current.id, 5);
      if (attempt < 3) {
        const target = (await targetsOf(job.id))[0]!;
        expect(target).toMatchObject({ status: 'pending', attempts: attempt, exitCode: 5, error: 'Command failed with exit code 5' });
        // Nothing starts before the backoff is over, however often the job is driven.
        await b.jobs.drive(job.id);
        await h.server.services.jobs.drive(job.id);
        expect(await commandsOf()).toHaveLength(attempt);
      }
    }
    await until(async () => (await h.server.services.jobs.status(null, job.id)).status === 'completed', 10_000, 50);
    expect((await targetsOf(job.id))[0]).toMatchObject({ status: 'failed', attempts: 3, exitCode: 5 });
    const rows = await commandsOf();
    expect(rows).toHaveLength(3);
    // 1 s after the first try, 2 s after the second (the database's clock on both sides).
    const waited = (i: number) => rows[i + 1]!.createdAt.getTime() - rows[i]!.finishedAt!.getTime();
    expect(waited(0)).toBeGreaterThanOrEqual(1_000);
    expect(waited(1)).toBeGreaterThanOrEqual(2_000);
    expect(waited(1)).toBeLessThan(8_000);
  }, 60_000);
});
