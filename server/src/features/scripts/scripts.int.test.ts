import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, relationalEngines, startHarness, type Client, type Harness } from '../../../test-support/index.ts';
import { createScheduler } from '../../platform/scheduler/scheduler.ts';
import { createJobLeases } from '../../stores/relational/index.ts';
import { runRemediationActions } from '../alerts/index.ts';
import { scriptJobs } from './jobs.ts';
import { createScriptService, type ScriptService } from './service.ts';

const PASSWORD = 'correct horse battery';
const cacheFor = (engine: 'pglite' | 'postgres') => (engine === 'postgres' ? 'redis' : 'memory') as 'redis' | 'memory';

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(relationalEngines())('script library on %s', (engine) => {
  let h: Harness;
  let owner: Client;
  let tech: Client;
  let viewer: Client;
  let ownerB: Client;
  let orgA: string;
  let orgB: string;
  const devices: Record<string, string> = {};
  const silentLog = { info() {}, warn() {}, debug() {}, error() {} } as never;
  /** What a second server instance would build: its own service over the same stores. */
  let instance: () => ScriptService;

  async function device(organizationId: string, name: string, osType: string) {
    const { rows } = await h.server.services.db.query<{ id: string }>(
      `INSERT INTO devices (name, organization_id, status, os_type, os_version, approval_state) VALUES ($1, $2, 'online', $3, 'x', 'approved') RETURNING id`,
      [name, organizationId, osType]);
    return rows[0]!.id;
  }
  const commandsOfJob = async (jobId: string) => (await h.server.services.db.query<{ deviceId: string; script: string; env: Record<string, string> | null; shell: string }>(
    'SELECT device_id AS "deviceId", script, env, shell FROM commands WHERE bulk_job_id = $1 ORDER BY device_id', [jobId])).rows;

  beforeAll(async () => {
    h = await startHarness({ relational: engine, cache: cacheFor(engine), env: { RATE_LIMIT_MAX: '100000' } });
    orgA = (await h.admin.admin.organizations.create.mutate({ name: `Scripts ${engine}` })).id;
    orgB = (await h.admin.admin.organizations.create.mutate({ name: `Scripts ${engine} other` })).id;
    const person = async (organization: string, role: 'owner' | 'technician' | 'viewer', email: string) => {
      await h.admin.admin.users.create.mutate({ org: organization, email, password: PASSWORD, role });
      return h.http({ authorization: `Bearer ${(await h.http().auth.login.mutate({ email, password: PASSWORD })).sessionToken}` });
    };
    owner = await person(orgA, 'owner', `owner-${engine}@scripts-a.test`);
    tech = await person(orgA, 'technician', `tech-${engine}@scripts-a.test`);
    viewer = await person(orgA, 'viewer', `viewer-${engine}@scripts-a.test`);
    ownerB = await person(orgB, 'owner', `owner-${engine}@scripts-b.test`);
    devices.web1 = await device(orgA, 'web-1', 'linux');
    devices.web2 = await device(orgA, 'web-2', 'linux');
    devices.desk = await device(orgA, 'desk-1', 'windows');
    devices.foreign = await device(orgB, 'web-foreign', 'linux');
    const { services } = h.server;
    instance = () => createScriptService({ db: services.db, log: silentLog, commands: services.commands, jobs: services.jobs, audit: async () => null });
  }, 300_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('keeps versions, checks typed parameters, and runs with parameters as environment variables, never as script text', async () => {
    const body = 'echo "cleaning $NINJAIT_PARAM_PATH for $NINJAIT_PARAM_DAYS days"';
    const parameters = [
      { name: 'path', type: 'string' as const, required: true, maxLength: 100 },
      { name: 'days', type: 'number' as const, default: 7, min: 1, max: 365 },
      { name: 'dry', type: 'boolean' as const, default: true },
    ];
    expect(await codeOf(tech.scripts.create.mutate({ name: 'x', language: 'shell', targetOs: ['linux'], body }))).toBe('FORBIDDEN');
    expect(await codeOf(owner.scripts.create.mutate({ name: 'x', language: 'shell', targetOs: ['linux'], body, parameters: [{ name: '1bad', type: 'string' }] }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.scripts.create.mutate({ name: 'x', language: 'shell', targetOs: ['linux'], body, parameters: [{ name: 'n', type: 'number', default: 'seven' }] as never }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.scripts.create.mutate({ name: 'x', language: 'cobol', targetOs: ['linux'], body } as never))).toBe('BAD_REQUEST');
    const script = await owner.scripts.create.mutate({ name: 'Clean temp', language: 'shell', targetOs: ['linux'], body, parameters });
    expect(script).toMatchObject({ currentVersion: 1, body, language: 'shell' });
    expect(await codeOf(owner.scripts.create.mutate({ name: 'clean TEMP', language: 'shell', targetOs: ['linux'], body }))).toBe('CONFLICT');

    // A rename keeps the version; a new body makes version 2; version 1 stays readable.
    expect((await owner.scripts.update.mutate({ id: script.id, description: 'weekly' })).currentVersion).toBe(1);
    const body2 = `${body}\necho done`;
    expect((await owner.scripts.update.mutate({ id: script.id, body: body2 })).currentVersion).toBe(2);
    const full = await tech.scripts.get.query({ id: script.id });
    expect(full.versions.map((v) => [v.version, v.body])).toEqual([[2, body2], [1, body]]);
    expect(await codeOf(ownerB.scripts.get.query({ id: script.id }))).toBe('NOT_FOUND');

    // Bad parameter values are typed errors before anything runs.
    const target = { kind: 'devices' as const, deviceIds: [devices.web1!] };
    expect(await codeOf(tech.scripts.run.mutate({ id: script.id, target, parameters: {} }))).toBe('BAD_REQUEST'); // path is required
    expect(await codeOf(tech.scripts.run.mutate({ id: script.id, target, parameters: { path: '/tmp', days: 0 } }))).toBe('BAD_REQUEST');
    expect(await codeOf(tech.scripts.run.mutate({ id: script.id, target, parameters: { path: '/tmp', days: 'many' } }))).toBe('BAD_REQUEST');
    expect(await codeOf(tech.scripts.run.mutate({ id: script.id, target, parameters: { path: '/tmp', colour: 'red' } }))).toBe('BAD_REQUEST');
    expect(await codeOf(tech.scripts.run.mutate({ id: script.id, target, parameters: { path: 'x'.repeat(101) } }))).toBe('BAD_REQUEST');
    expect(await codeOf(viewer.scripts.run.mutate({ id: script.id, target, parameters: { path: '/tmp' } }))).toBe('FORBIDDEN');
    expect(await codeOf(tech.scripts.run.mutate({ id: script.id, target: { kind: 'devices', deviceIds: [devices.foreign!] }, parameters: { path: '/tmp' } }))).toBe('NOT_FOUND');
    expect(await codeOf(tech.scripts.run.mutate({ id: script.id, target: { kind: 'devices', deviceIds: [devices.desk!] }, parameters: { path: '/tmp' } }))).toBe('BAD_REQUEST');

    // The whole organization: the Windows device is left out (the script is for Linux), the rest run version 2.
    const hostile = '/tmp"; rm -rf / #$(reboot)';
    const run = await tech.scripts.run.mutate({ id: script.id, target: { kind: 'organization' }, parameters: { path: hostile } });
    expect(run).toMatchObject({ version: 2, devices: 2, skippedOtherOs: 1 });
    const commands = await until(() => commandsOfJob(run.bulkJobId), (rows) => rows.length === 2);
    for (const command of commands) {
      expect(command.script).toBe(body2);
      expect(command.env).toEqual({ NINJAIT_PARAM_PATH: hostile, NINJAIT_PARAM_DAYS: '7', NINJAIT_PARAM_DRY: 'true' });
    }
    expect(commands.map((c) => c.deviceId).sort()).toEqual([devices.web1, devices.web2].sort());

    // Results per device are listable, and the run names its version.
    const detail = await tech.scripts.runs.get.query({ id: run.runId });
    expect(detail).toMatchObject({ version: 2, trigger: 'manual', scriptName: 'Clean temp' });
    expect((detail.results as { deviceId: string }[]).map((r) => r.deviceId).sort()).toEqual([devices.web1, devices.web2].sort());
    // A page at a time (a 10,000-device run is not sent whole), with the total to page to.
    const pages = await Promise.all([0, 1].map((offset) => tech.scripts.runs.get.query({ id: run.runId, offset, limit: 1 })));
    expect(pages.map((page) => ('progress' in page ? page.progress?.total : null))).toEqual([2, 2]);
    expect(pages.flatMap((page) => (page.results as { deviceId: string }[]).map((r) => r.deviceId)).sort()).toEqual([devices.web1, devices.web2].sort());
    expect(await codeOf(tech.scripts.runs.get.query({ id: run.runId, offset: -1 }))).toBe('BAD_REQUEST');
    expect((await tech.scripts.runs.list.query({ scriptId: script.id })).map((r) => r.id)).toEqual([run.runId]);
    expect(await codeOf(ownerB.scripts.runs.get.query({ id: run.runId }))).toBe('NOT_FOUND');

    const actions = (await owner.audit.list.query({ limit: 200 })).map((entry: { action: string }) => entry.action);
    expect(actions.filter((a: string) => a === 'script.create')).toHaveLength(1);
    expect(actions.filter((a: string) => a === 'script.update')).toHaveLength(2);
    expect(actions.filter((a: string) => a === 'script.run')).toHaveLength(1);
  }, 120_000);

  it('refuses invalid cron expressions and time zones with typed errors, and starts a due schedule once under two instances', async () => {
    const script = await owner.scripts.create.mutate({ name: 'Uptime', language: 'shell', targetOs: ['linux'], body: 'uptime' });
    const base = { scriptId: script.id, name: 'nightly', target: { kind: 'devices' as const, deviceIds: [devices.web1!] } };
    for (const [cron, timezone, words] of [
      ['61 * * * *', 'UTC', /cron/i], ['* * *', 'UTC', /five fields/], ['every day', 'UTC', /cron/i],
      ['0 3 * * *', 'Mars/Olympus', /time zone/i], ['0 3 * * *', '+01:00', /time zone/i],
    ] as const) {
      const error = await tech.scripts.schedules.create.mutate({ ...base, cron, timezone }).catch((e: Error & { data?: { code?: string } }) => e);
      expect((error as { data?: { code?: string } }).data?.code).toBe('BAD_REQUEST');
      expect((error as Error).message).toMatch(words);
    }
    expect(await codeOf(viewer.scripts.schedules.create.mutate({ ...base, cron: '0 3 * * *', timezone: 'UTC' }))).toBe('FORBIDDEN');

    const schedule = await tech.scripts.schedules.create.mutate({ ...base, cron: '30 2 * * *', timezone: 'Asia/Kolkata' });
    // 02:30 in Kolkata is 21:00 UTC the day before.
    expect(new Date(schedule.nextRunAt!).getUTCHours()).toBe(21);
    expect(new Date(schedule.nextRunAt!).getUTCMinutes()).toBe(0);
    expect((await tech.scripts.schedules.list.query({})).map((s) => s.id)).toContain(schedule.id);

    // Due now: two instances' schedulers (and the server's own) race for it; it runs once.
    await h.server.services.db.query(`UPDATE script_schedules SET next_run_at = NOW() - INTERVAL '1 minute' WHERE id = $1`, [schedule.id]);
    const leases = createJobLeases(h.server.services.db);
    const schedulers = ['instance-a', 'instance-b'].map((instanceId) => {
      const scheduler = createScheduler({ log: silentLog, instanceId, leases });
      scheduler.register(...scriptJobs(instance(), silentLog, 100));
      scheduler.start();
      return scheduler;
    });
    // And two direct calls at once, without a lease: the compare-and-set alone keeps it to one.
    await Promise.all([instance().runDue(), instance().runDue()]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
    const runs = await tech.scripts.runs.list.query({ scriptId: script.id });
    expect(runs.filter((r) => r.scheduleId === schedule.id)).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'schedule', error: null });
    const after = (await tech.scripts.schedules.list.query({ scriptId: script.id }))[0]!;
    expect(new Date(after.nextRunAt!).getTime()).toBeGreaterThan(Date.now());

    const disabled = await tech.scripts.schedules.setEnabled.mutate({ id: schedule.id, enabled: false });
    expect(disabled).toMatchObject({ enabled: false, nextRunAt: null });
    expect(await codeOf(ownerB.scripts.schedules.setEnabled.mutate({ id: schedule.id, enabled: true }))).toBe('NOT_FOUND');
  }, 120_000);

  it('runs a rule\'s remediation script once per alert, even with restarts and racing instances, and records the result on the alert', async () => {
    const { db } = h.server.services;
    const script = await owner.scripts.create.mutate({
      name: 'Restart nginx', language: 'shell', targetOs: ['linux'], body: 'systemctl restart "$NINJAIT_PARAM_UNIT"',
      parameters: [{ name: 'unit', type: 'string', default: 'nginx' }],
    });
    const foreignScript = await ownerB.scripts.create.mutate({ name: 'theirs', language: 'shell', targetOs: ['linux'], body: 'true' });
    expect(await codeOf(owner.alertRules.create.mutate({ name: 'bad', condition: { kind: 'offline', forSec: 600 }, remediationScriptId: foreignScript.id }))).toBe('NOT_FOUND');
    const rule = await owner.alertRules.create.mutate({ name: 'web down', condition: { kind: 'offline', forSec: 600 }, remediationScriptId: script.id });
    expect(rule.remediationScriptId).toBe(script.id);

    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO alerts (organization_id, rule_id, device_id, dedupe_key, state, severity, title)
       VALUES ($1, $2, $3, $4, 'open', 'warning', 'web-2 offline') RETURNING id`, [orgA, rule.id, devices.web2, `test:${rule.id}:${devices.web2}`]);
    const alertId = rows[0]!.id;
    // The server's own job and three more callers race for it.
    const remediate = (alert: Parameters<ScriptService['remediate']>[0], label: string) => instance().remediate(alert, label);
    await Promise.all([1, 2, 3].map(() => runRemediationActions(db, remediate, silentLog)));
    const running = await until(() => owner.alerts.get.query({ id: alertId }), (alert) => alert.remediationState === 'running');
    const labelled = await db.query<{ id: string; env: Record<string, string>; script: string }>(
      `SELECT id, env, script FROM commands WHERE requested_by_label = $1`, [`remediation of alert ${alertId}`]);
    expect(labelled.rows).toHaveLength(1);
    expect(labelled.rows[0]).toMatchObject({ id: running.remediationCommandId, env: { NINJAIT_PARAM_UNIT: 'nginx' }, script: 'systemctl restart "$NINJAIT_PARAM_UNIT"' });

    // A restart that left the claim "starting" after the command existed links it; it does not run it again.
    await db.query(`UPDATE alerts SET remediation_state = 'starting', remediation_command_id = NULL, remediation_at = NOW() - INTERVAL '10 minutes' WHERE id = $1`, [alertId]);
    await runRemediationActions(db, remediate, silentLog);
    expect((await owner.alerts.get.query({ id: alertId })).remediationCommandId).toBe(running.remediationCommandId);
    expect((await db.query(`SELECT 1 FROM commands WHERE requested_by_label = $1`, [`remediation of alert ${alertId}`])).rowCount).toBe(1);

    // The device reports a failure: the alert shows it.
    await db.query(`UPDATE commands SET status = 'failed', exit_code = 3, finished_at = NOW() WHERE id = $1`, [running.remediationCommandId]);
    await runRemediationActions(db, remediate, silentLog);
    const done = await owner.alerts.get.query({ id: alertId });
    expect(done).toMatchObject({ remediationState: 'failed', remediationExitCode: 3 });
    expect(done.remediationError).toMatch(/exit code 3/);
    const remediations = (await tech.scripts.runs.list.query({ scriptId: script.id })).filter((r) => r.trigger === 'remediation');
    expect(remediations).toHaveLength(1);
    expect(remediations[0]).toMatchObject({ alertId, commandId: running.remediationCommandId });

    // A script for another OS is recorded as a failure, not retried.
    const { rows: winRows } = await db.query<{ id: string }>(
      `INSERT INTO alerts (organization_id, rule_id, device_id, dedupe_key, state, severity, title)
       VALUES ($1, $2, $3, $4, 'open', 'warning', 'desk offline') RETURNING id`, [orgA, rule.id, devices.desk, `test:${rule.id}:${devices.desk}`]);
    await runRemediationActions(db, remediate, silentLog);
    const win = await until(() => owner.alerts.get.query({ id: winRows[0]!.id }), (alert) => alert.remediationState === 'failed');
    expect(win.remediationError).toMatch(/for linux/);
  }, 120_000);

  it('`ninjait script create|list|run|schedule` drive the library from the command line', async () => {
    const { execFile } = await import('node:child_process');
    const cli = new URL('../../cli/main.ts', import.meta.url).pathname;
    const ninjait = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', cli, 'script', ...args, '--server', h.server.url, '--data-dir', h.dataDir], (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
    });
    const org = `Scripts ${engine}`;
    expect((await ninjait('--help')).stdout).toMatch(/ninjait script create/);
    const created = await ninjait('create', '--org', org, '--name', 'Disk report', '--language', 'shell', '--os', 'linux',
      '--body', 'df -h "$NINJAIT_PARAM_MOUNT"', '--param', 'mount:string:/', '--param', 'depth:number:1', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'Disk report', currentVersion: 1 });
    expect((await ninjait('list', '--org', org)).stdout).toMatch(/Disk report/);

    const bad = await ninjait('run', '--org', org, 'Disk report', '--as', `tech-${engine}@scripts-a.test`, '--set', 'depth=deep');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/depth.*number/);
    const viewerRun = await ninjait('run', '--org', org, 'Disk report', '--as', `viewer-${engine}@scripts-a.test`);
    expect(viewerRun.stderr).toMatch(/technician/);

    const run = await ninjait('run', '--org', org, 'Disk report', '--as', `tech-${engine}@scripts-a.test`, '--device', 'web-1', '--set', 'mount=/var', '--set', 'depth=2', '--json');
    expect(run.code).toBe(0);
    const { bulkJobId } = JSON.parse(run.stdout) as { bulkJobId: string };
    const [command] = await until(() => commandsOfJob(bulkJobId), (rows) => rows.length === 1);
    expect(command).toMatchObject({ deviceId: devices.web1, env: { NINJAIT_PARAM_MOUNT: '/var', NINJAIT_PARAM_DEPTH: '2' } });

    const badCron = await ninjait('schedule', '--org', org, 'Disk report', '--as', `tech-${engine}@scripts-a.test`, '--name', 'n', '--cron', '0 25 * * *', '--tz', 'UTC');
    expect(badCron.stderr).toMatch(/cron/i);
    const scheduled = await ninjait('schedule', '--org', org, 'Disk report', '--as', `tech-${engine}@scripts-a.test`, '--name', 'weekday mornings',
      '--cron', '0 7 * * 1-5', '--tz', 'Europe/Berlin', '--target', 'organization');
    expect(scheduled.code).toBe(0);
    expect(scheduled.stdout).toMatch(/next run 20\d\d-/);
    expect((await ninjait('schedules', '--org', org)).stdout).toMatch(/weekday mornings/);
  }, 120_000);
});
