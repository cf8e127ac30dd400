import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';
import { startHarness, type Harness } from '../../../test-support/harness.ts';
import { readLocalAdminToken } from '../auth/local-admin.ts';
import {
  codeOf, collectOutput, createTenant, processGone, resultOfEvents, startAgent, textOf, until, wsClient, type Tenant,
} from '../../../test-support/command-fixtures.ts';
import { measureEchoRoundTrip } from '../../../test-support/echo-round-trip.ts';

// PGlite + in-process cache always; PostgreSQL + Redis together when both are configured.
const combos = [{ relational: 'pglite', cache: 'memory' }] as { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis' }[];
if (relationalEngines().includes('postgres') && cacheEngines().includes('redis')) combos.push({ relational: 'postgres', cache: 'redis' });

describe.each(combos)('remote commands on $relational + $cache', ({ relational, cache }) => {
  let h: Harness;
  let x: Tenant;
  let y: Tenant;
  let device: { deviceId: string; deviceSecret: string };
  let agent: Awaited<ReturnType<typeof startAgent>>;
  let techWs: ReturnType<typeof wsClient>;
  let viewerWs: ReturnType<typeof wsClient>;
  let yWs: ReturnType<typeof wsClient>;
  const count = async (sql: string, params: unknown[] = []) =>
    (await h.server.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;

  beforeAll(async () => {
    h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
    const adminToken = (await readLocalAdminToken(h.dataDir))!;
    x = await createTenant(h.server.url, adminToken, 'Org X');
    y = await createTenant(h.server.url, adminToken, 'Org Y');
    device = await x.enroll('x-linux-1');
    agent = await startAgent(h.server.url, device);
    techWs = wsClient(h.server.url, { sessionToken: x.technicianToken });
    viewerWs = wsClient(h.server.url, { sessionToken: (await h.http().auth.login.mutate({ email: 'viewer@org-x.test', password: 'correct horse battery staple' })).sessionToken });
    yWs = wsClient(h.server.url, { sessionToken: y.technicianToken });
    // The agent's subscription is live once a command sent now is delivered.
    await until(async () => (await measureEchoRoundTrip(techWs.client, device.deviceId, { timeoutMs: 5_000 }).catch(() => null)) !== null, 20_000, 200);
  });

  afterAll(async () => {
    await Promise.allSettled([agent?.stop(), techWs?.close(), viewerWs?.close(), yWs?.close()]);
    await h?.stop();
  });

  it('streams stdout and stderr in order and reports the exit code; the output stays readable', async () => {
    const command = await x.technician.commands.run.mutate({
      deviceId: device.deviceId, shell: 'sh', script: 'for i in 1 2 3 4 5; do echo "out $i"; echo "err $i" >&2; done; exit 3',
    });
    // The device's stream is on this instance: the command went to it at once.
    expect(command.status).toBe('sent');
    const events = await collectOutput(techWs.client, command.id);
    const chunks = events.filter((e) => e.type === 'chunk') as { seq: number }[];
    expect(chunks.map((c) => c.seq)).toEqual([...chunks.map((c) => c.seq)].sort((a, b) => a - b));
    expect(new Set(chunks.map((c) => c.seq)).size).toBe(chunks.length);
    expect(textOf(events, 'stdout')).toBe('out 1\nout 2\nout 3\nout 4\nout 5\n');
    expect(textOf(events, 'stderr')).toBe('err 1\nerr 2\nerr 3\nerr 4\nerr 5\n');
    expect(resultOfEvents(events)).toMatchObject({ status: 'failed', exitCode: 3, outputTruncated: false });

    const stored = await x.technician.commands.get.query({ id: command.id });
    expect(stored).toMatchObject({ status: 'failed', exitCode: 3, shell: 'sh', requestedByLabel: 'technician@org-x.test' });
    expect(stored.startedAt).not.toBeNull();
    expect(stored.finishedAt).not.toBeNull();
    expect(stored.output.map((c) => c.data).join('')).toBe(textOf(events));
    // A late subscriber gets the stored chunks and the result.
    expect(textOf(await collectOutput(techWs.client, command.id))).toBe(textOf(events));
  });

  it('runs bash and interpreter scripts, multi-line', async () => {
    const bash = await x.technician.commands.run.mutate({ deviceId: device.deviceId, shell: 'bash', script: 'a=(x y z)\necho "${#a[@]} ${a[1]}"' });
    const bashEvents = await collectOutput(techWs.client, bash.id);
    expect(textOf(bashEvents)).toBe('3 y\n');
    const node = await x.technician.commands.run.mutate({ deviceId: device.deviceId, interpreter: 'node', script: 'console.log(6 * 7)' });
    expect(textOf(await collectOutput(techWs.client, node.id))).toBe('42\n');
  });

  it('kills the whole process tree on timeout', async () => {
    const command = await x.technician.commands.run.mutate({
      deviceId: device.deviceId, script: 'sleep 60 & echo "child=$!"; sleep 61 & echo "fg=$!"; wait; echo never', timeoutSec: 1,
    });
    const started = Date.now();
    const events = await collectOutput(techWs.client, command.id);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(resultOfEvents(events).status).toBe('timed_out');
    expect(textOf(events)).not.toContain('never');
    const pids = [...textOf(events).matchAll(/(?:child|fg)=(\d+)/g)].map((match) => Number(match[1]));
    expect(pids).toHaveLength(2);
    for (const pid of pids) await until(() => processGone(pid), 3_000);
  });

  it('cancels a running command, and refuses to cancel a finished one', async () => {
    const command = await x.technician.commands.run.mutate({ deviceId: device.deviceId, script: 'echo started; sleep 60; echo never' });
    let cancelled = false;
    const events = await collectOutput(techWs.client, command.id, {
      onEvent: (event) => {
        if (event.type === 'chunk' && event.data.includes('started') && !cancelled) {
          cancelled = true;
          void x.technician.commands.cancel.mutate({ id: command.id });
        }
      },
    });
    expect(resultOfEvents(events).status).toBe('cancelled');
    expect(textOf(events)).toBe('started\n');
    expect(await codeOf(x.technician.commands.cancel.mutate({ id: command.id }))).toBe('CONFLICT');
  });

  it('cancels a queued command at once', async () => {
    const offline = await x.enroll('x-offline-cancel');
    const command = await x.technician.commands.run.mutate({ deviceId: offline.deviceId, script: 'echo hi' });
    expect(command.status).toBe('queued');
    const cancelled = await x.technician.commands.cancel.mutate({ id: command.id });
    expect(cancelled.status).toBe('cancelled');
    expect((await x.technician.commands.get.query({ id: command.id })).status).toBe('cancelled');
  });

  it('delivers a command queued for an offline device once on reconnect, and not after expiry', async () => {
    const offline = await x.enroll('x-offline');
    const marks = await mkdtemp(join(tmpdir(), 'ninjait-marks-'));
    const file = join(marks, 'ran');
    const fresh = await x.technician.commands.run.mutate({ deviceId: offline.deviceId, script: `echo ran >> ${file}; echo done`, expiresInSec: 120 });
    const stale = await x.technician.commands.run.mutate({ deviceId: offline.deviceId, script: `echo stale >> ${file}`, expiresInSec: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_300));

    const agentData = await mkdtemp(join(tmpdir(), 'ninjait-agent-'));
    const first = await startAgent(h.server.url, offline, agentData);
    expect(resultOfEvents(await collectOutput(techWs.client, fresh.id)).status).toBe('succeeded');
    expect((await x.technician.commands.get.query({ id: stale.id })).status).toBe('expired');
    await first.stop(false);

    // At-least-once: the server delivers the finished command again (as after a lost report);
    // the agent's SQLite record stops a second run and it re-reports the stored result.
    await h.server.services.db.query(`UPDATE commands SET status = 'sent', finished_at = NULL WHERE id = $1`, [fresh.id]);
    const second = await startAgent(h.server.url, offline, agentData);
    await until(async () => (await x.technician.commands.get.query({ id: fresh.id })).status === 'succeeded');
    await second.stop(false);
    expect(await readFile(file, 'utf8')).toBe('ran\n');
    expect((await x.technician.commands.get.query({ id: fresh.id })).deliveryCount).toBe(2);
    await rm(marks, { recursive: true, force: true });
    await rm(agentData, { recursive: true, force: true });
  });

  it('refuses viewers, and keeps organizations apart (NOT_FOUND)', async () => {
    const before = await count('commands');
    expect(await codeOf(x.viewer.commands.run.mutate({ deviceId: device.deviceId, script: 'echo hi' }))).toBe('FORBIDDEN');
    expect(await codeOf(y.technician.commands.run.mutate({ deviceId: device.deviceId, script: 'echo hi' }))).toBe('NOT_FOUND');
    expect(await count('commands')).toBe(before);

    const command = await x.technician.commands.run.mutate({ deviceId: device.deviceId, script: 'echo private' });
    await collectOutput(techWs.client, command.id);
    expect(await codeOf(y.technician.commands.get.query({ id: command.id }))).toBe('NOT_FOUND');
    expect(await codeOf(y.technician.commands.cancel.mutate({ id: command.id }))).toBe('NOT_FOUND');
    expect(await codeOf(y.technician.commands.list.query({ deviceId: device.deviceId }))).toBe('NOT_FOUND');
    expect((await y.technician.commands.list.query({})).items).toHaveLength(0);
    expect(await codeOf(collectOutput(yWs.client, command.id))).toBe('NOT_FOUND');
    expect(await codeOf(y.technician.shell.open.mutate({ deviceId: device.deviceId }))).toBe('NOT_FOUND');
    // Viewers may read their organization's history.
    expect((await x.viewer.commands.get.query({ id: command.id })).id).toBe(command.id);
    expect(textOf(await collectOutput(viewerWs.client, command.id))).toBe('private\n');
  });

  it('refuses bad input with typed errors and writes nothing', async () => {
    const before = await count('commands');
    const run = (input: Record<string, unknown>) =>
      codeOf(x.technician.commands.run.mutate({ deviceId: device.deviceId, script: 'echo hi', ...input } as never));
    expect(await run({ script: '' })).toBe('BAD_REQUEST');
    expect(await run({ script: '   \n ' })).toBe('BAD_REQUEST');
    expect(await run({ script: 'x'.repeat(64 * 1024 + 1) })).toBe('PAYLOAD_TOO_LARGE');
    expect(await run({ shell: 'powershell' })).toBe('BAD_REQUEST');
    expect(await run({ shell: 'cmd' })).toBe('BAD_REQUEST');
    expect(await run({ shell: 'zsh' })).toBe('BAD_REQUEST');
    expect(await run({ timeoutSec: 0 })).toBe('BAD_REQUEST');
    expect(await run({ timeoutSec: 86_401 })).toBe('BAD_REQUEST');
    expect(await run({ expiresInSec: 0 })).toBe('BAD_REQUEST');
    expect(await run({ deviceId: '00000000-0000-4000-8000-000000000000' })).toBe('NOT_FOUND');
    expect(await count('commands')).toBe(before);
    const windows = await x.enroll('x-windows', 'Windows');
    expect(await codeOf(x.technician.commands.run.mutate({ deviceId: windows.deviceId, shell: 'bash', script: 'echo hi' }))).toBe('BAD_REQUEST');
    expect((await x.technician.commands.run.mutate({ deviceId: windows.deviceId, script: 'Write-Output hi' })).shell).toBe('powershell');
  });

  it('caps stored output at 1 MiB and flags it truncated', async () => {
    const command = await x.technician.commands.run.mutate({ deviceId: device.deviceId, script: 'head -c 1500000 /dev/zero | tr "\\0" a' });
    const events = await collectOutput(techWs.client, command.id, { timeoutMs: 30_000 });
    expect(resultOfEvents(events)).toMatchObject({ status: 'succeeded', outputTruncated: true, outputBytes: 1024 * 1024 });
    expect(textOf(events).length).toBe(1024 * 1024);
    const stored = await x.technician.commands.get.query({ id: command.id });
    expect(stored.output.map((c) => c.data).join('').length).toBe(1024 * 1024);
  });

  it('lists per organization and device with filters and pages', async () => {
    const page1 = await x.technician.commands.list.query({ limit: 2 });
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await x.technician.commands.list.query({ limit: 2, cursor: page1.nextCursor! });
    expect(page2.items[0]!.id).not.toBe(page1.items[1]!.id);
    expect(+new Date(page2.items[0]!.createdAt)).toBeLessThanOrEqual(+new Date(page1.items[1]!.createdAt));
    const timedOut = await x.technician.commands.list.query({ deviceId: device.deviceId, status: ['timed_out'] });
    expect(timedOut.items.length).toBeGreaterThan(0);
    expect(timedOut.items.every((c) => c.status === 'timed_out' && c.deviceId === device.deviceId)).toBe(true);
  });

  it('runs an interactive shell: input in, output out, closed on idle', async () => {
    const session = await x.technician.shell.open.mutate({ deviceId: device.deviceId, idleTimeoutSec: 5 });
    const events: { type: string; data?: string; reason?: string }[] = [];
    const closed = new Promise<void>((resolve, reject) => {
      const sub = techWs.client.shell.output.subscribe({ sessionId: session.sessionId }, {
        onData(event) {
          events.push(event);
          if (event.type === 'closed') {
            sub.unsubscribe();
            resolve();
          }
        },
        onError: reject,
      });
    });
    await until(() => events.some((e) => e.type === 'opened'));
    await x.technician.shell.input.mutate({ sessionId: session.sessionId, data: 'echo "hello $((40 + 2))"\n' });
    await until(() => events.some((e) => e.data?.includes('hello 42')));
    expect(await codeOf(y.technician.shell.input.mutate({ sessionId: session.sessionId, data: 'id\n' }))).toBe('NOT_FOUND');
    await closed;
    expect(events.at(-1)).toMatchObject({ type: 'closed', reason: 'idle timeout' });
  }, 20_000);

  it('runs a bulk job on every device of a list with retries, per-device results and progress', async () => {
    const second = await x.enroll('x-linux-2');
    const secondAgent = await startAgent(h.server.url, second);
    let markDir: string | undefined;
    try {
      const job = await x.technician.jobs.create.mutate({ deviceIds: [device.deviceId, second.deviceId], concurrency: 1, script: 'echo hi' });
      expect(job.total).toBe(2);
      await until(async () => (await x.technician.jobs.status.query({ id: job.id })).status === 'completed', 20_000, 100);
      const status = await x.technician.jobs.status.query({ id: job.id });
      expect(status.progress).toEqual({ done: 2, total: 2, percent: 100 });
      expect(status.counts.succeeded).toBe(2);
      expect(status.targets.every((t) => t.status === 'succeeded' && t.exitCode === 0 && t.commandId)).toBe(true);
      expect(await codeOf(y.technician.jobs.status.query({ id: job.id }))).toBe('NOT_FOUND');
      expect(await codeOf(x.viewer.jobs.create.mutate({ script: 'echo hi' }))).toBe('FORBIDDEN');

      // Fails on the first try, succeeds on the retry.
      markDir = await mkdtemp(join(tmpdir(), 'ninjait-bulk-'));
      const mark = join(markDir, 'tried');
      const retried = await x.technician.jobs.create.mutate({
        deviceIds: [second.deviceId], retries: 1, script: `if [ -e ${mark} ]; then echo ok; else touch ${mark}; exit 1; fi`,
      });
      await until(async () => (await x.technician.jobs.status.query({ id: retried.id })).status === 'completed', 20_000, 100);
      expect((await x.technician.jobs.status.query({ id: retried.id })).targets[0]).toMatchObject({ status: 'succeeded', attempts: 2, exitCode: 0 });

      const flaky = await x.technician.jobs.create.mutate({ deviceIds: [second.deviceId], retries: 2, script: 'exit 7' });
      await until(async () => (await x.technician.jobs.status.query({ id: flaky.id })).status === 'completed', 20_000, 100);
      const failed = await x.technician.jobs.status.query({ id: flaky.id });
      expect(failed.targets[0]).toMatchObject({ status: 'failed', attempts: 3, exitCode: 7 });
      expect(await count('commands WHERE bulk_job_id = $1', [flaky.id])).toBe(3);
    } finally {
      await secondAgent.stop();
      if (markDir) await rm(markDir, { recursive: true, force: true });
    }
  }, 40_000);

  it('`ninjait run` streams output and exits with the remote exit code', async () => {
    const { spawn } = await import('node:child_process');
    const cli = new URL('../../cli/main.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'run', '--server', h.server.url, '--data-dir', h.dataDir,
      'host-x-linux-1', '--', 'echo', 'from-cli;', 'echo', 'err-cli', '>&2;', 'exit', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, stdout, stderr }).toEqual({ code: 3, stdout: 'from-cli\n', stderr: 'err-cli\n' });
    const { rows } = await h.server.services.db.query<{ label: string }>(
      `SELECT requested_by_label AS label FROM commands WHERE script = 'echo from-cli; echo err-cli >&2; exit 3'`);
    expect(rows).toEqual([{ label: 'local-admin' }]);
  });

  it('audits every run and cancel with user, device and IP', async () => {
    const runs = await count('commands WHERE organization_id = $1', [x.orgId]);
    await until(async () => await count(`audit_log WHERE organization_id = $1 AND action = 'command.run'`, [x.orgId]) === runs);
    const { rows } = await h.server.services.db.query<{ doc: { userId: string; ipAddress: string; details: { deviceId: string } } }>(
      `SELECT doc FROM audit_log WHERE organization_id = $1 AND action = 'command.cancel'`, [x.orgId]);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows[0]!.doc).toMatchObject({ ipAddress: '127.0.0.1', details: { deviceId: expect.any(String) } });
    expect(rows[0]!.doc.userId).toBeTruthy();
    expect(await count(`audit_log WHERE organization_id = $1 AND action = 'shell.open'`, [x.orgId])).toBe(1);
    expect(await count(`audit_log WHERE organization_id = $1 AND action = 'command.run'`, [y.orgId])).toBe(0);
  });
});
