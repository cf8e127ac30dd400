import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, relationalEngines, startHarness, type Client, type Harness } from '../../../test-support/index.ts';
import { inventory, startAgent, until } from '../../../test-support/command-fixtures.ts';

const PASSWORD = 'correct horse battery';
const cacheFor = (engine: 'pglite' | 'postgres') => (engine === 'postgres' ? 'redis' : 'memory') as 'redis' | 'memory';

/** A real HTTP receiver recording each POST's body. */
async function startReceiver() {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    events: (event: string) => bodies.filter((body) => (JSON.parse(body) as { event: string }).event === event),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Script checks on a real server with the real agent-side command runner: the saved script runs
 * on this machine as the device, its exit code and output open the alert (one signed POST), a
 * passing run resolves it (one more), a maintenance window mutes it, excluded and other-OS
 * devices are never sent the script, and bad patterns or foreign scripts are refused.
 */
describe.each(relationalEngines())('script-check alerts on %s', (engine) => {
  let h: Harness;
  let dir: string;
  let hooks: Awaited<ReturnType<typeof startReceiver>>;
  let agent: Awaited<ReturnType<typeof startAgent>>;
  let owner: Client;
  let ownerB: Client;
  let deviceId: string;
  let excludedId: string;
  let windowsId: string;
  const org = `Checks ${engine}`;
  const flag = () => join(dir, 'failing');
  const sql = async <T extends object>(text: string, params: unknown[] = []) => (await h.server.services.db.query<T>(text, params)).rows;
  /** Time passes: the rule's next check is due now (the scheduler job starts it within two seconds). */
  const dueNow = (rule: string) => sql("UPDATE alert_rules SET next_check_at = NOW() WHERE name = $1", [rule]);
  const checkRuns = async () => (await sql<{ n: number }>("SELECT count(*)::int AS n FROM script_runs WHERE trigger = 'check' AND organization_id = (SELECT id FROM organizations WHERE name = $1)", [org]))[0]!.n;
  const inFlight = async () => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM alert_script_checks'))[0]!.n;
  const flushed = async () => {
    await h.server.notifications.flush();
    return hooks;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-checks-'));
    hooks = await startReceiver();
    h = await startHarness({ relational: engine, cache: cacheFor(engine), env: { WEBHOOK_ALLOW_PRIVATE: '1', RATE_LIMIT_MAX: '100000' } });
    await h.admin.admin.organizations.create.mutate({ name: org });
    await h.admin.admin.organizations.create.mutate({ name: `${org} other` });
    const login = async (organization: string, email: string) => {
      await h.admin.admin.users.create.mutate({ org: organization, email, password: PASSWORD, role: 'owner' });
      return h.http({ authorization: `Bearer ${(await h.http().auth.login.mutate({ email, password: PASSWORD })).sessionToken}` });
    };
    owner = await login(org, `owner-${engine}@checks-a.test`);
    ownerB = await login(`${org} other`, `owner-${engine}@checks-b.test`);
    const enroll = async (name: string, platform = 'linux') => {
      const { token } = await h.admin.admin.tokens.create.mutate({ org });
      return h.http().agent.enroll.mutate({ token, inventory: { ...inventory(`${engine}-${name}`, platform), hostname: name } });
    };
    const device = await enroll('checked');
    deviceId = device.deviceId;
    excludedId = (await enroll('left-out')).deviceId;
    windowsId = (await enroll('desk', 'win32')).deviceId;
    agent = await startAgent(h.server.url, device);
  }, 300_000);

  afterAll(async () => {
    await agent?.stop();
    await h?.stop();
    await hooks?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens on a failing run, keeps one alert while it fails, resolves on a passing run, and mutes in maintenance', async () => {
    await writeFile(flag(), 'x');
    const script = await owner.scripts.create.mutate({
      name: 'Probe', language: 'shell', targetOs: ['linux'],
      body: `if [ -e '${flag()}' ]; then echo "STATUS: BAD"; exit 3; fi\necho "STATUS: OK"`,
    });
    await h.admin.admin.alerting.channels.create.mutate({ org, name: 'hook', kind: 'webhook', target: hooks.url });
    const rule = await h.admin.admin.alerting.rules.create.mutate({
      org, name: 'probe', when: 'script probe exit != 0', everySec: 60, timeoutSec: 30, channels: ['hook'], severity: 'critical', exclude: ['left-out'],
    });
    expect(rule.condition).toEqual({ kind: 'script', scriptId: script.id, everySec: 60, timeoutSec: 30, exit: { op: '!=', code: 0 } });

    // The first round runs at once: the failing run opens one alert, with the run's result on it.
    const open = await until(async () => (await owner.alerts.list.query({ state: 'open' })).length === 1, 30_000)
      .then(async () => (await owner.alerts.list.query({ state: 'open' }))[0]!);
    expect(open).toMatchObject({ deviceId, ruleName: 'probe', severity: 'critical', value: 3, checkExitCode: 3, checkOutput: expect.stringContaining('STATUS: BAD') });
    expect(open.title).toContain('script check fails (exit != 0)');
    await until(async () => (await flushed()).events('alert.opened').length >= 1, 20_000);
    expect(JSON.parse(hooks.events('alert.opened')[0]!)).toMatchObject({ alert: { id: open.id, deviceId, value: 3 } });

    // Only the checked device got the script: the excluded one is left out, the Windows one does not fit a Linux script.
    const targets = await sql<{ deviceId: string }>("SELECT device_id AS \"deviceId\" FROM commands WHERE requested_by_label = 'script check of rule probe'");
    expect(new Set(targets.map((t) => t.deviceId))).toEqual(new Set([deviceId]));
    expect(targets.map((t) => t.deviceId)).not.toContain(excludedId);
    expect(targets.map((t) => t.deviceId)).not.toContain(windowsId);

    // A new condition runs again at once; still failing (now by its output), it is the same alert and nobody hears twice.
    const runsBefore = await checkRuns();
    await h.admin.admin.alerting.rules.update.mutate({ org, rule: 'probe', when: 'script Probe output ~ /status: bad/i', everySec: 60 });
    await until(async () => (await checkRuns()) > runsBefore && (await inFlight()) === 0, 30_000);
    await flushed();
    expect(await owner.alerts.list.query({})).toHaveLength(1);
    expect(hooks.events('alert.opened')).toHaveLength(1);

    // The device is fixed: the next passing run resolves the alert, once, with the passing output recorded.
    await rm(flag());
    await dueNow('probe');
    await until(async () => (await owner.alerts.get.query({ id: open.id })).state === 'resolved', 30_000);
    const resolved = await owner.alerts.get.query({ id: open.id });
    expect(resolved).toMatchObject({ resolution: 'auto', checkExitCode: 0, checkOutput: expect.stringContaining('STATUS: OK') });
    await until(async () => (await flushed()).events('alert.resolved').length >= 1, 20_000);
    // Passing again changes nothing.
    const runsResolved = await checkRuns();
    await dueNow('probe');
    await until(async () => (await checkRuns()) > runsResolved && (await inFlight()) === 0, 30_000);
    await flushed();
    expect(hooks.events('alert.resolved')).toHaveLength(1);
    expect(await owner.alerts.list.query({ state: 'open' })).toEqual([]);

    // In a maintenance window a failing run opens the alert muted: recorded, not sent.
    await owner.maintenance.create.mutate({ deviceId, startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3_600_000), reason: 'patching' });
    await writeFile(flag(), 'x');
    await dueNow('probe');
    await until(async () => (await owner.alerts.list.query({ state: 'open' })).length === 1, 30_000);
    expect((await owner.alerts.list.query({ state: 'open' }))[0]).toMatchObject({ muted: true, checkExitCode: 3 });
    await flushed();
    expect(hooks.events('alert.opened')).toHaveLength(1);
    // Leaving the rule's scope (excluded now) resolves the device's alert; it is not checked any more.
    const muted = (await owner.alerts.list.query({ state: 'open' }))[0]!;
    await owner.alertRules.update.mutate({ id: rule.id, excludedDeviceIds: [excludedId, deviceId] });
    const runsExcluded = await checkRuns();
    await dueNow('probe');
    await until(async () => (await owner.alerts.get.query({ id: muted.id })).state === 'resolved', 30_000);
    expect(await checkRuns()).toBe(runsExcluded);
    // The runs are the script library's own, as `check` runs of the script.
    expect((await owner.scripts.runs.list.query({ scriptId: script.id })).every((run) => run.trigger === 'check')).toBe(true);
  }, 180_000);

  it('refuses catastrophic patterns, unknown or foreign scripts, and out-of-range cadences with clear errors', async () => {
    const when = (text: string, extra: { everySec?: number } = {}) => codeOf(h.admin.admin.alerting.rules.create.mutate({ org, name: `bad ${text}`, when: text, ...extra }));
    expect(await when('script probe output ~ /(a+)+$/')).toBe('BAD_REQUEST');
    expect(await when('script probe output ~ /(x)\\1/')).toBe('BAD_REQUEST');
    expect(await when('script probe exit >= 1')).toBe('BAD_REQUEST');
    expect(await when('script probe exit != 0', { everySec: 10 })).toBe('BAD_REQUEST');
    expect(await when('cpu > 90', { everySec: 60 })).toBe('BAD_REQUEST');
    expect(await when('script "no such script" exit != 0')).toBe('NOT_FOUND');
    const [probe] = await owner.scripts.list.query();
    // Another organization cannot point a rule at this organization's script.
    expect(await codeOf(ownerB.alertRules.create.mutate({ name: 'steal', condition: { kind: 'script', scriptId: probe!.id, exit: { op: '!=', code: 0 } } }))).toBe('NOT_FOUND');
    const own = await ownerB.alertRules.create.mutate({ name: 'own', condition: { kind: 'offline', forSec: 600 } });
    expect(await codeOf(ownerB.alertRules.update.mutate({ id: own.id, condition: { kind: 'script', scriptId: probe!.id, exit: { op: '!=', code: 0 } } }))).toBe('NOT_FOUND');
    expect((await ownerB.alertRules.list.query()).map((rule) => rule.condition.kind)).toEqual(['offline']);
    expect(await codeOf(owner.alertRules.create.mutate({ name: 'slow', condition: { kind: 'script', scriptId: probe!.id, everySec: 60, timeoutSec: 120, exit: { op: '!=', code: 0 } } }))).toBe('BAD_REQUEST');
  }, 60_000);
});
