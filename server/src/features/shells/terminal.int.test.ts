import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';
import { startHarness, type Harness } from '../../../test-support/harness.ts';
import { readLocalAdminToken } from '../auth/local-admin.ts';
import { codeOf, createTenant, startAgent, until, wsClient, type Client, type Tenant } from '../../../test-support/command-fixtures.ts';
import { measureEchoRoundTrip } from '../../../test-support/echo-round-trip.ts';
import { localAdminRequester } from '../commands/index.ts';
import { createShellService, type ShellEvent } from './shell-service.ts';

const combos = [{ relational: 'pglite', cache: 'memory' }] as { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis' }[];
if (relationalEngines().includes('postgres') && cacheEngines().includes('redis')) combos.push({ relational: 'postgres', cache: 'redis' });

type Event = { type: string; data?: string; reason?: string; pty?: boolean };

/** Opens a terminal and collects what it prints; `screen()` is everything so far. */
async function openTerminal(tech: Client, ws: Client, deviceId: string, size: { cols: number; rows: number }) {
  const session = await tech.shell.open.mutate({ deviceId, shell: 'bash', idleTimeoutSec: 60, ...size });
  const events: Event[] = [];
  const closed = new Promise<void>((resolve, reject) => {
    const sub = ws.shell.output.subscribe({ sessionId: session.sessionId }, {
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
  await until(() => events.some((e) => e.type === 'opened'), 15_000);
  const screen = () => events.filter((e) => e.type === 'output').map((e) => e.data).join('');
  const type = (data: string) => tech.shell.input.mutate({ sessionId: session.sessionId, data });
  return { session, events, closed, screen, type };
}

describe.each(combos)('terminals on $relational + $cache', ({ relational, cache }) => {
  let h: Harness;
  let x: Tenant;
  let y: Tenant;
  let device: { deviceId: string; deviceSecret: string };
  let agent: Awaited<ReturnType<typeof startAgent>>;
  let techWs: ReturnType<typeof wsClient>;

  beforeAll(async () => {
    h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
    const adminToken = (await readLocalAdminToken(h.dataDir))!;
    x = await createTenant(h.server.url, adminToken, 'Org X');
    y = await createTenant(h.server.url, adminToken, 'Org Y');
    device = await x.enroll('x-term-1');
    agent = await startAgent(h.server.url, device);
    techWs = wsClient(h.server.url, { sessionToken: x.technicianToken });
    await until(async () => (await measureEchoRoundTrip(techWs.client, device.deviceId, { timeoutMs: 5_000 }).catch(() => null)) !== null, 20_000, 200);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([agent?.stop(), techWs?.close()]);
    await h?.stop();
  });

  it('runs a real pty: stty size follows resize, Ctrl-C stops the foreground job, the session is recorded and audited', async () => {
    const t = await openTerminal(x.technician, techWs.client, device.deviceId, { cols: 80, rows: 24 });
    expect(t.events.find((e) => e.type === 'opened')?.pty).toBe(true);
    await t.type('stty size\r');
    await until(() => /24 80/.test(t.screen()), 10_000);

    await x.technician.shell.resize.mutate({ sessionId: t.session.sessionId, cols: 100, rows: 40 });
    await t.type('stty size\r');
    await until(() => /40 100/.test(t.screen()), 10_000);

    // A tty is what `[ -t 0 ]` sees; a piped shell would print "pipe".
    await t.type('[ -t 0 ] && echo "is-a-""tty" || echo "is-a-""pipe"\r');
    await until(() => t.screen().includes('is-a-tty'), 10_000);

    const started = Date.now();
    await t.type('sleep 30; echo "slept-""through"\r');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await t.type('\x03');
    await t.type('echo "after-$((40 + 2))"\r');
    await until(() => t.screen().includes('after-42'), 10_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(t.screen()).not.toContain('slept-through');

    // Several sessions per device.
    const second = await openTerminal(x.technician, techWs.client, device.deviceId, { cols: 60, rows: 20 });
    await second.type('echo "second-""session"\r');
    await until(() => second.screen().includes('second-session'));
    await x.technician.shell.close.mutate({ sessionId: second.session.sessionId });
    await second.closed;

    await t.type('exit\r');
    await t.closed;

    const list = await x.viewer.shell.recordings.query({ deviceId: device.deviceId });
    const summary = list.find((r) => r.sessionId === t.session.sessionId)!;
    expect(summary).toMatchObject({ pty: true, userLabel: 'technician@org-x.test', shell: 'bash', truncated: false });
    expect(summary.endedAt).not.toBeNull();
    expect(summary.bytes).toBeGreaterThan(0);
    const recording = await x.viewer.shell.recording.query({ sessionId: t.session.sessionId });
    const [header, ...lines] = recording.asciicast.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(header).toMatchObject({ version: 2, width: 100, height: 40 });
    const events = lines as [number, string, string][];
    expect(events.some(([, kind, data]) => kind === 'i' && data === 'stty size\r')).toBe(true);
    expect(events.some(([, kind, data]) => kind === 'r' && data === '100x40')).toBe(true);
    expect(events.filter(([, kind]) => kind === 'o').map(([, , data]) => data).join('')).toContain('40 100');
    expect(events.map(([at]) => at)).toEqual([...events.map(([at]) => at)].sort((a, b) => a - b));

    await until(async () => (await h.server.services.db.query(
      `SELECT 1 FROM audit_log WHERE organization_id = $1 AND action = 'shell.end' AND doc->>'resourceId' = $2`, [x.orgId, t.session.sessionId])).rowCount === 1);

    expect(await codeOf(y.viewer.shell.recording.query({ sessionId: t.session.sessionId }))).toBe('NOT_FOUND');
    expect(await codeOf(y.viewer.shell.recordings.query({ deviceId: device.deviceId }))).toBe('NOT_FOUND');
    expect(await codeOf(x.viewer.shell.resize.mutate({ sessionId: t.session.sessionId, cols: 10, rows: 10 }))).toBe('FORBIDDEN');
  }, 60_000);

  it('reaches a device whose socket is on another instance, and streams its output back, through pub/sub', async () => {
    // Another instance over the same stores: the device's stream is not on it, so neither its
    // messages to the device nor the device's output can take the in-process way.
    const { db, cache, commands } = h.server.services;
    const elsewhere = createShellService({ db, cache, publisher: commands.publisher, audit: async () => null });
    const requester = localAdminRequester('127.0.0.1');
    const session = await elsewhere.open(requester, { deviceId: device.deviceId, shell: 'bash', idleTimeoutSec: 60 });
    const stop = new AbortController();
    const events: ShellEvent[] = [];
    const streamed = (async () => {
      for await (const event of elsewhere.output(requester, session.sessionId, stop.signal)) events.push(event);
    })();
    const screen = () => events.map((e) => (e.type === 'output' ? e.data : '')).join('');
    try {
      await until(() => events.some((e) => e.type === 'opened'), 15_000);
      await elsewhere.input(requester, session.sessionId, 'echo "far-$((20 + 1))"\r');
      await until(() => screen().includes('far-21'), 10_000);
      // Each event once, though this server also streams to its own watchers: none here.
      expect(events.filter((e) => e.type === 'opened')).toHaveLength(1);
      await elsewhere.close(requester, session.sessionId);
      await until(() => events.some((e) => e.type === 'closed'), 10_000);
    } finally {
      stop.abort();
      await streamed.catch(() => undefined);
    }
  }, 40_000);

  it('falls back to a piped shell where the agent has no pty, and says so', async () => {
    const piped = await x.enroll('x-term-piped');
    const pipedAgent = await startAgent(h.server.url, piped, undefined, { usePty: false });
    try {
      await until(async () => (await measureEchoRoundTrip(techWs.client, piped.deviceId, { timeoutMs: 5_000 }).catch(() => null)) !== null, 20_000, 200);
      const t = await openTerminal(x.technician, techWs.client, piped.deviceId, { cols: 80, rows: 24 });
      expect(t.events.find((e) => e.type === 'opened')?.pty).toBe(false);
      await t.type('echo "piped-$((1 + 1))"\n');
      await until(() => t.screen().includes('piped-2'));
      await x.technician.shell.close.mutate({ sessionId: t.session.sessionId });
      await t.closed;
    } finally {
      await pipedAgent.stop();
    }
  }, 40_000);
});
