import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeInventory, startHarness, type Client, type Harness } from '@ninjait/server/testing';
import { wsClient } from '@ninjait/server/testing/commands';
import { waitFor } from '../support/processes.ts';
import { createOrgFixture, engineVariants, login, PASSWORD, unique, type OrgFixture } from './support.ts';

/**
 * What devices report and what people watch:
 * - a device's report about a command or shell that is not its own is neither stored nor shown
 *   (another organization's device injecting into a running command's live output, or ending a shell);
 * - what is typed into a shell is in the audit log, every chunk, batched under bursts;
 * - people's open streams end when their session, user or device is revoked, within a bound;
 * - a bulk job stops running devices once its requester lost the role.
 */

/** How long a revoked stream may stay open: the revocation travels by pub/sub at once; this only absorbs a loaded machine. */
const REVOKED_WITHIN_MS = 5_000;

type Role = 'viewer' | 'technician' | 'admin' | 'owner';
interface Device { deviceId: string; deviceSecret: string }
interface Watched<T> { events: T[]; ended: { at: number; code: string | null } | null; stop(): void }

/** Records a subscription's events and how it ended (error code, or null when it completed). */
function watch<T>(subscribe: (handlers: { onData(event: T): void; onError(error: unknown): void; onComplete(): void }) => { unsubscribe(): void }): Watched<T> {
  const watched: Watched<T> = { events: [], ended: null, stop: () => undefined };
  const subscription = subscribe({
    onData: (event) => void watched.events.push(event),
    onError: (error) => {
      watched.ended ??= { at: Date.now(), code: (error as { data?: { code?: string } }).data?.code ?? 'TRANSPORT' };
    },
    onComplete: () => {
      watched.ended ??= { at: Date.now(), code: null };
    },
  });
  watched.stop = () => subscription.unsubscribe();
  return watched;
}

describe.each(engineVariants())('device reports, shell audit and revocation ($name)', (engines) => {
  let h: Harness;
  let x: OrgFixture;
  let y: OrgFixture;
  const closers: (() => Promise<void> | void)[] = [];
  const bearer = (session: string) => h.http({ authorization: `Bearer ${session}` });
  const as = (org: OrgFixture, role: Role) => bearer(org.users[role].session);
  /** A WebSocket client, closed after the suite. */
  const socket = (params: Record<string, string>): Client => {
    const { client, close } = wsClient(h.server.url, params);
    closers.push(close);
    return client;
  };
  const deviceSocket = (device: Device) => socket({ deviceId: device.deviceId, deviceSecret: device.deviceSecret });
  const enroll = async (org: OrgFixture): Promise<Device> => {
    const { token } = await h.admin.admin.tokens.create.mutate({ org: org.orgId });
    return h.http().agent.enroll.mutate({ token, inventory: fakeInventory(unique('machine')) });
  };
  /** A device whose `agent.commands` stream is open; `received` is everything sent on it. */
  const connectAgent = async (org: OrgFixture) => {
    const device = await enroll(org);
    const client = deviceSocket(device);
    const received: { type: string; sessionId?: string; data?: string; command?: { id: string } }[] = [];
    const stream = client.agent.commands.subscribe(undefined, { onData: (message) => void received.push(message as (typeof received)[number]) });
    closers.push(() => stream.unsubscribe());
    // Its stream takes commands directly once it is attached: a command run now is `sent` at once.
    await waitFor('the device stream to attach', async () =>
      (await as(org, 'technician').commands.run.mutate({ deviceId: device.deviceId, script: 'true' })).status === 'sent', 10_000, 100);
    return { device, client, received };
  };
  /** A person of `org` with a fresh session of their own (role and password changes end it). */
  const person = async (org: OrgFixture, role: Role) => {
    const email = `${role}-${unique()}@streams.test`;
    const user = await h.admin.admin.users.create.mutate({ org: org.orgId, email, password: PASSWORD, role });
    return { id: user.id, email, session: await login(h, email) };
  };
  const auditRows = async (resourceId: string, action: string) => (await h.server.services.db.query<{ user_id: string | null; doc: { details: Record<string, unknown> } }>(
    'SELECT user_id, doc FROM audit_log WHERE resource_id = $1 AND action = $2 ORDER BY ts', [resourceId, action])).rows;
  const endsWithin = async (what: string, watched: Watched<unknown>, since: number) => {
    await waitFor(what, async () => watched.ended !== null, REVOKED_WITHIN_MS + 5_000, 20);
    const ms = watched.ended!.at - since;
    console.info(`${what}: ended ${ms} ms after the revoking call started (code ${watched.ended!.code})`);
    expect(ms, `${what} took ${ms} ms`).toBeLessThan(REVOKED_WITHIN_MS);
    return watched.ended!.code;
  };

  beforeAll(async () => {
    await engines.reset();
    h = await startHarness({ relational: engines.relational, cache: engines.cache, env: { RATE_LIMIT_MAX: '1000000', ...engines.env } });
    [x, y] = [await createOrgFixture(h, 'StreamsX'), await createOrgFixture(h, 'StreamsY')];
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(closers.map((close) => close()));
    await h?.stop();
    // This variant's own key space: nothing it wrote (sessions, queues, rate limits) stays behind.
    if (engines.cache === 'redis') await engines.reset();
  });

  it("does not show or store another organization's device's output for a running command", async () => {
    const real = await connectAgent(x);
    const intruder = await connectAgent(y);
    const command = await as(x, 'technician').commands.run.mutate({ deviceId: real.device.deviceId, script: 'echo genuine' });
    expect(command.status).toBe('sent');
    const viewer = watch<{ type: string; data?: string; seq?: number }>((handlers) =>
      socket({ sessionToken: x.users.viewer.session }).commands.output.subscribe({ id: command.id }, handlers));
    await waitFor('the viewer to be streaming', async () => viewer.events.length > 0, 10_000, 20);

    const injected = { commandId: command.id, chunks: [{ seq: 0, stream: 'stdout' as const, data: 'INJECTED by another organization\n' }] };
    expect(await intruder.client.agent.commandOutput.mutate(injected)).toMatchObject({ accepted: false });
    expect(await intruder.client.agent.commandStarted.mutate({ commandId: command.id })).toMatchObject({ accepted: false });
    expect(await real.client.agent.commandOutput.mutate({ commandId: command.id, chunks: [{ seq: 0, stream: 'stdout', data: 'genuine\n' }] }))
      .toMatchObject({ accepted: true });
    expect(await intruder.client.agent.commandResult.mutate({ commandId: command.id, status: 'failed', exitCode: 66, error: 'injected' }))
      .toMatchObject({ accepted: false });
    await real.client.agent.commandResult.mutate({ commandId: command.id, status: 'succeeded', exitCode: 0, error: null });

    await waitFor('the result', async () => viewer.events.some((event) => event.type === 'result'), 10_000, 20);
    const shown = viewer.events.filter((event) => event.type === 'chunk');
    expect(shown).toEqual([{ type: 'chunk', seq: 0, stream: 'stdout', data: 'genuine\n' }]);
    expect(viewer.events.find((event) => event.type === 'result')).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const stored = await as(x, 'viewer').commands.get.query({ id: command.id });
    expect(stored.output.map((chunk) => chunk.data)).toEqual(['genuine\n']);
  });

  it("does not store or show output carried in another organization's device's result (a quick command's one report)", async () => {
    const real = await connectAgent(x);
    const intruder = await connectAgent(y);
    const command = await as(x, 'technician').commands.run.mutate({ deviceId: real.device.deviceId, script: 'echo genuine' });
    const viewer = watch<{ type: string; data?: string; seq?: number }>((handlers) =>
      socket({ sessionToken: x.users.viewer.session }).commands.output.subscribe({ id: command.id }, handlers));
    await waitFor('the viewer to be streaming', async () => viewer.events.length > 0, 10_000, 20);

    const injected = [{ seq: 0, stream: 'stdout' as const, data: 'INJECTED by another organization\n' }];
    expect(await intruder.client.agent.commandResult.mutate({ commandId: command.id, status: 'failed', exitCode: 66, error: 'injected', output: injected }))
      .toMatchObject({ accepted: false });
    const genuine = [{ seq: 0, stream: 'stdout' as const, data: 'genuine\n' }];
    expect(await real.client.agent.commandResult.mutate({ commandId: command.id, status: 'succeeded', exitCode: 0, error: null, output: genuine }))
      .toMatchObject({ accepted: true });

    await waitFor('the result', async () => viewer.events.some((event) => event.type === 'result'), 10_000, 20);
    // The output is shown before the result, as when it came in its own report.
    expect(viewer.events.filter((event) => event.type === 'chunk' || event.type === 'result').map((event) => event.type)).toEqual(['chunk', 'result']);
    expect(viewer.events.find((event) => event.type === 'chunk')).toEqual({ type: 'chunk', ...genuine[0] });
    const stored = await as(x, 'viewer').commands.get.query({ id: command.id });
    expect(stored).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(stored.output.map((chunk) => chunk.data)).toEqual(['genuine\n']);
  });

  it("does not let another organization's device speak into or end a shell, even after its session key expired", async () => {
    const real = await connectAgent(x);
    const intruder = await connectAgent(y);
    const { sessionId } = await as(x, 'technician').shell.open.mutate({ deviceId: real.device.deviceId });
    const watcher = watch<{ type: string; data?: string; reason?: string }>((handlers) =>
      socket({ sessionToken: x.users.technician.session }).shell.output.subscribe({ sessionId }, handlers));
    await waitFor('the shell to be opened on the device', async () => real.received.some((m) => m.type === 'shell-open' && m.sessionId === sessionId), 10_000, 20);

    const speak = (client: Client, event: Parameters<Client['agent']['shellOutput']['mutate']>[0]['event']) => client.agent.shellOutput.mutate({ sessionId, event });
    expect(await speak(intruder.client, { type: 'output', seq: 0, stream: 'stdout', data: 'INJECTED\n' })).toMatchObject({ accepted: false });
    expect(await speak(intruder.client, { type: 'closed', reason: 'INJECTED close', exitCode: 0 })).toMatchObject({ accepted: false });
    expect(await speak(real.client, { type: 'output', seq: 0, stream: 'stdout', data: 'genuine\n' })).toMatchObject({ accepted: true });
    // The session's key expires when nobody types for its idle timeout; its device's closing report may come later.
    await h.server.services.cache.del([`shell-session:${sessionId}`]);
    expect(await speak(intruder.client, { type: 'closed', reason: 'INJECTED close', exitCode: 0 })).toMatchObject({ accepted: false });
    expect(await speak(real.client, { type: 'closed', reason: 'idle timeout', exitCode: 0 })).toMatchObject({ accepted: true });

    await waitFor('the shell to close', async () => watcher.events.some((event) => event.type === 'closed'), 10_000, 20);
    expect(JSON.stringify(watcher.events)).not.toContain('INJECTED');
    expect(watcher.events.filter((event) => event.type !== 'opened')).toEqual([
      { type: 'output', seq: 0, stream: 'stdout', data: 'genuine\n' },
      { type: 'closed', reason: 'idle timeout', exitCode: 0 },
    ]);
  });

  it('audits every chunk typed into a shell before the device gets it, a burst in few entries', async () => {
    const real = await connectAgent(x);
    const technician = as(x, 'technician');
    const { sessionId } = await technician.shell.open.mutate({ deviceId: real.device.deviceId });
    const line = `echo ${randomBytes(4).toString('hex')}\n`;
    await technician.shell.input.mutate({ sessionId, data: line });
    const [first] = await auditRows(sessionId, 'shell.input');
    expect(first).toMatchObject({ user_id: x.users.technician.id, doc: { details: { deviceId: real.device.deviceId, input: line, chunks: 1 } } });

    // A burst: every key in the trail exactly once; fewer entries than calls. Sent on one
    // WebSocket, as the console's terminal sends keys: forty separate HTTP requests reached a
    // loaded server one by one, slower than the audit's slots refill, so they did not burst.
    const keys = Array.from({ length: 40 }, (_, i) => `<k${i}>`);
    const terminal = socket({ sessionToken: x.users.technician.session });
    await Promise.all(keys.map((data) => terminal.shell.input.mutate({ sessionId, data })));
    const rows = (await auditRows(sessionId, 'shell.input')).slice(1);
    const audited = rows.map((row) => String(row.doc.details.input)).join('');
    for (const key of keys) expect(audited.split(key).length - 1, key).toBe(1);
    expect(rows.length).toBeLessThan(keys.length / 2);
    expect(rows.reduce((total, row) => total + Number(row.doc.details.chunks), 0)).toBe(keys.length);
    await waitFor('the device to get every key', async () => keys.every((key) => real.received.some((m) => m.type === 'shell-input' && m.data === key)), 10_000, 20);

    // The largest input is one entry, cut to the entry size.
    const paste = 'x'.repeat(16 * 1024);
    await technician.shell.input.mutate({ sessionId, data: paste });
    const last = (await auditRows(sessionId, 'shell.input')).at(-1)!;
    expect(String(last.doc.details.input)).toBe(paste);
  });

  it('ends output, shell and live streams at logout, role and password changes and decommissioning', async () => {
    const real = await connectAgent(x);
    const quiet = await enroll(x); // no agent: its commands stay queued, so their streams stay open
    const technician = as(x, 'technician');
    const queued = await technician.commands.run.mutate({ deviceId: quiet.deviceId, script: 'echo later' });
    const outputOf = (session: string, id = queued.id) => watch<unknown>((handlers) => socket({ sessionToken: session }).commands.output.subscribe({ id }, handlers));
    const liveOf = (session: string) => watch<unknown>((handlers) => socket({ sessionToken: session }).live.devices.subscribe(undefined, handlers));
    const streaming = (...watched: Watched<unknown>[]) => waitFor('the streams to start', async () => watched.every((w) => w.events.length > 0), 10_000, 20);

    // Logout: streams opened with that session end; another session of the same person goes on.
    const viewer = await person(x, 'viewer');
    const other = await login(h, viewer.email);
    const [output, live, untouched] = [outputOf(viewer.session), liveOf(viewer.session), outputOf(other)];
    await streaming(output, live, untouched);
    const loggedOut = Date.now();
    await bearer(viewer.session).auth.logout.mutate();
    expect(await endsWithin('output stream at logout', output, loggedOut)).toBe('UNAUTHORIZED');
    expect(await endsWithin('live stream at logout', live, loggedOut)).toBe('UNAUTHORIZED');
    expect(untouched.ended).toBeNull();

    // Role change: every session of the person ends, their shell is closed.
    const demoted = await person(x, 'technician');
    const { sessionId } = await bearer(demoted.session).shell.open.mutate({ deviceId: real.device.deviceId });
    const shell = watch<unknown>((handlers) => socket({ sessionToken: demoted.session }).shell.output.subscribe({ sessionId }, handlers));
    const demotedOutput = outputOf(demoted.session);
    await waitFor('the shell to be opened on the device', async () => real.received.some((m) => m.type === 'shell-open' && m.sessionId === sessionId), 10_000, 20);
    await streaming(demotedOutput);
    const changed = Date.now();
    await as(x, 'admin').users.setRole.mutate({ userId: demoted.id, role: 'viewer' });
    expect(await endsWithin('shell stream at role change', shell, changed)).toBe('UNAUTHORIZED');
    expect(await endsWithin('output stream at role change', demotedOutput, changed)).toBe('UNAUTHORIZED');
    await waitFor('the shell to be closed on the device', async () => real.received.some((m) => m.type === 'shell-close' && m.sessionId === sessionId), 5_000, 20);
    expect((await auditRows(sessionId, 'shell.close'))[0]?.doc.details).toMatchObject({ reason: 'session ended' });
    expect(untouched.ended).toBeNull();

    // Password change: the old sessions' streams end; the new session works.
    const changer = await person(x, 'technician');
    const changerLive = liveOf(changer.session);
    await streaming(changerLive);
    const passwordChanged = Date.now();
    const { sessionToken } = await bearer(changer.session).users.changePassword.mutate({ currentPassword: PASSWORD, newPassword: `${PASSWORD} again` });
    expect(await endsWithin('live stream at password change', changerLive, passwordChanged)).toBe('UNAUTHORIZED');
    expect((await bearer(sessionToken!).auth.me.query()).userId).toBe(changer.id);

    // Decommissioning: streams of the device's commands end for everyone.
    const watcher = await person(x, 'viewer');
    const onDevice = outputOf(watcher.session);
    await streaming(onDevice);
    const decommissioned = Date.now();
    await as(x, 'admin').devices.decommission.mutate({ id: quiet.deviceId });
    expect(await endsWithin('output stream at decommission', onDevice, decommissioned)).toBe('NOT_FOUND');
    untouched.stop();
  });

  it("stops a bulk job's remaining devices once its requester lost the role", async () => {
    const requester = await person(x, 'technician');
    const [first, second] = [await enroll(x), await enroll(x)]; // no agents: the first device's command waits
    const job = await bearer(requester.session).jobs.create.mutate({ script: 'echo bulk', deviceIds: [first.deviceId, second.deviceId], concurrency: 1 });
    const running = await waitFor('the first device to get its command', async () =>
      (await as(x, 'owner').jobs.status.query({ id: job.id })).targets.find((target) => target.commandId !== null), 10_000, 50);
    await as(x, 'admin').users.setRole.mutate({ userId: requester.id, role: 'viewer' });
    // The first device's command ends (here: cancelled); the job moves on to the second device.
    await as(x, 'owner').commands.cancel.mutate({ id: running.commandId! });
    const done = await waitFor('the job to finish', async () => {
      const status = await as(x, 'owner').jobs.status.query({ id: job.id });
      return status.status === 'completed' ? status : null;
    }, 15_000, 100);
    const rest = done.targets.find((target) => target.deviceId !== running.deviceId)!;
    expect(rest).toMatchObject({ status: 'failed', commandId: null });
    expect(rest.error).toMatch(/now a viewer/);
    const { rows } = await h.server.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM commands WHERE device_id = $1', [rest.deviceId]);
    expect(rows[0]!.n).toBe(0);
  });
});
