import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeOf, fakeInventory, fakeSampleRecord, relationalEngines, startHarness, startSmtpReceiver, type Client, type Harness, type SmtpReceiver,
} from '../../../test-support/index.ts';
import { until } from '../../../test-support/command-fixtures.ts';
import { createIngestLogReader } from '../ingest/log-reader.ts';
import { createAlertSink } from './alert-sink.ts';

interface Received { headers: IncomingHttpHeaders; body: string; path: string }

/** A real HTTP receiver: records every POST; answers `status` (changeable). */
async function startReceiver() {
  const received: Received[] = [];
  const state = { status: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' });
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function verifySignature(secret: string, request: Received): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(request.headers['x-ninjait-signature']));
  if (!match) return false;
  return createHmac('sha256', secret).update(`${match[1]}.${request.body}`).digest('hex') === match[2];
}

const cacheFor = (engine: 'pglite' | 'postgres') => (engine === 'postgres' ? 'redis' : 'memory') as 'redis' | 'memory';

describe.each(relationalEngines())('alerts and notifications on %s', (engine) => {
  let h: Harness;
  let smtp: SmtpReceiver;
  let hooks: Awaited<ReturnType<typeof startReceiver>>;
  let owner: Client;
  let ownerB: Client;
  const org = `Alerts ${engine}`;

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    hooks = await startReceiver();
    h = await startHarness({
      relational: engine, cache: cacheFor(engine),
      env: { WEBHOOK_ALLOW_PRIVATE: '1', SMTP_URL: smtp.url, INGEST_LOG_RETENTION_SEC: '3600', RATE_LIMIT_MAX: '100000' },
    });
    await h.admin.admin.organizations.create.mutate({ name: org });
    await h.admin.admin.organizations.create.mutate({ name: `${org} other` });
    await h.admin.admin.users.create.mutate({ org, email: `owner-${engine}@a.test`, password: 'correct horse battery', role: 'owner' });
    await h.admin.admin.users.create.mutate({ org: `${org} other`, email: `owner-${engine}@b.test`, password: 'correct horse battery', role: 'owner' });
    const login = async (email: string) =>
      h.http({ authorization: `Bearer ${(await h.http().auth.login.mutate({ email, password: 'correct horse battery' })).sessionToken}` });
    owner = await login(`owner-${engine}@a.test`);
    ownerB = await login(`owner-${engine}@b.test`);
  }, 300_000);

  afterAll(async () => {
    await h?.stop();
    await hooks?.close();
    await smtp?.stop();
  });

  async function enroll(name: string) {
    const { token } = await h.admin.admin.tokens.create.mutate({ org });
    const device = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(`${engine}-${name}`) });
    return { ...device, agent: h.ws({ deviceId: device.deviceId, deviceSecret: device.deviceSecret }) };
  }

  it('fires once, signs one POST, mails once, opens a ticket, resolves when the rule changes, and never twice on replay', async () => {
    const hook = await h.admin.admin.alerting.channels.create.mutate({ org, name: 'hook', kind: 'webhook', target: `${hooks.url}/ninjait` });
    expect(hook.signingSecret).toMatch(/^whsec_/);
    await h.admin.admin.alerting.channels.create.mutate({ org, name: 'mail', kind: 'email', target: 'ops@example.test' });
    await h.admin.admin.alerting.rules.create.mutate({ org, name: 'always hot', when: 'cpu >= 0', channels: ['hook', 'mail'], ticket: true, severity: 'critical' });

    const device = await enroll('hot');
    const t0 = Date.now() - 60_000;
    await device.agent.agent.push.mutate({ records: [1, 2, 3].map((seq) => fakeSampleRecord(seq, t0 + seq * 1000, 40)) });
    await h.server.drained();
    await until(async () => (await h.server.notifications.flush(), hooks.received.length >= 1 && smtp.messages.length >= 1), 20_000);
    await device.agent.agent.push.mutate({ records: [4, 5].map((seq) => fakeSampleRecord(seq, t0 + seq * 1000, 60)) });
    await h.server.drained();
    await h.server.notifications.flush();

    const open = await owner.alerts.list.query({ state: 'open' });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ deviceId: device.deviceId, severity: 'critical', ruleName: 'always hot' });
    expect(hooks.received).toHaveLength(1);
    expect(verifySignature(hook.signingSecret!, hooks.received[0]!)).toBe(true);
    expect(verifySignature('whsec_wrong', hooks.received[0]!)).toBe(false);
    expect(JSON.parse(hooks.received[0]!.body)).toMatchObject({ event: 'alert.opened', alert: { id: open[0]!.id, deviceId: device.deviceId } });
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.to).toEqual(['ops@example.test']);
    expect(smtp.messages[0]!.raw).toContain('always hot');

    // The ticket action links a ticket to the alert.
    await until(async () => (await owner.alerts.get.query({ id: open[0]!.id })).ticketId !== null, 20_000);

    // Another organization sees nothing of it.
    expect(await codeOf(ownerB.alerts.get.query({ id: open[0]!.id }))).toBe('NOT_FOUND');
    expect(await codeOf(ownerB.alerts.acknowledge.mutate({ ids: [open[0]!.id] }))).toBe('NOT_FOUND');
    expect(await ownerB.alerts.list.query({})).toEqual([]);

    // A replay of the whole log through a second consumer (another instance after a crash) changes nothing.
    const rows = await createIngestLogReader(h.server.services.db, { capacityRows: 100 }).readAfter(0, 1000);
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(await createAlertSink(h.server.services.db, h.server.services.log, h.server.services.events).write(rows, new AbortController().signal)).toEqual({ ok: true });
    const outbox = await h.server.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM notification_outbox');
    expect(outbox.rows[0]!.n).toBe(2);
    expect(await owner.alerts.list.query({})).toHaveLength(1);

    await owner.alerts.acknowledge.mutate({ ids: [open[0]!.id] });
    expect(await codeOf(owner.alerts.acknowledge.mutate({ ids: [open[0]!.id] }))).toBe('CONFLICT');

    // The rule changes to one no reading meets: the next sample resolves the alert, and the channels hear it once.
    await h.admin.admin.alerting.rules.update.mutate({ org, rule: 'always hot', when: 'cpu > 100' });
    await device.agent.agent.push.mutate({ records: [fakeSampleRecord(6, t0 + 6000, 50)] });
    await h.server.drained();
    await until(async () => (await h.server.notifications.flush(), hooks.received.length >= 2 && smtp.messages.length >= 2), 20_000);
    const resolved = await owner.alerts.get.query({ id: open[0]!.id });
    expect(resolved).toMatchObject({ state: 'resolved', resolution: 'auto' });
    expect(resolved.history.map((event) => event.eventType)).toEqual(['opened', 'acknowledged', 'resolved']);
    expect(JSON.parse(hooks.received[1]!.body)).toMatchObject({ event: 'alert.resolved' });
    expect(hooks.received[0]!.headers['x-ninjait-delivery']).not.toBe(hooks.received[1]!.headers['x-ninjait-delivery']);
    // The linked ticket closes with the alert.
    await until(async () => (await owner.tickets.get.query({ id: resolved.ticketId! })).status === 'closed', 20_000);
    expect(await owner.alerts.list.query({ state: 'open' })).toEqual([]);
  }, 120_000);

  it("shows a failing channel's state and delivery log to admins, and sends the others' messages regardless", async () => {
    const failing = await owner.channels.create.mutate({ name: 'broken hook', kind: 'webhook', target: `${hooks.url}/broken` });
    const slack = await owner.channels.create.mutate({ name: 'chat', kind: 'slack', target: `${hooks.url}/slack` });
    hooks.state.status = 500;
    const test = await owner.channels.test.mutate({ id: failing.channel.id });
    expect(test).toMatchObject({ ok: false, retryable: true, statusCode: 500 });
    hooks.state.status = 200;
    const chat = await owner.channels.test.mutate({ id: slack.channel.id });
    expect(chat).toMatchObject({ ok: true });
    expect(JSON.parse(hooks.received.at(-1)!.body)).toEqual({ text: expect.stringContaining('Test message') });
    const channels = await owner.channels.list.query();
    expect(channels.find((c) => c.id === failing.channel.id)).toMatchObject({ consecutiveFailures: 1, lastError: expect.stringContaining('500') });
    expect(channels.find((c) => c.id === slack.channel.id)).toMatchObject({ consecutiveFailures: 0 });
    expect((await owner.channels.deliveries.query({ id: failing.channel.id }))[0]).toMatchObject({ ok: false, statusCode: 500 });
    // Another organization's admin finds no such channel.
    expect(await codeOf(ownerB.channels.deliveries.query({ id: failing.channel.id }))).toBe('NOT_FOUND');
  }, 60_000);

  it('folds a burst on one channel into one digest', async () => {
    const digestHook = await owner.channels.create.mutate({ name: 'digest hook', kind: 'webhook', target: `${hooks.url}/digest` });
    const { rows } = await h.server.services.db.query<{ id: string }>('SELECT id FROM organizations WHERE name = $1', [org]);
    const before = hooks.received.filter((r) => r.path === '/digest').length;
    await h.server.services.db.transaction(async (tx) => {
      for (let i = 0; i < 25; i++) {
        await tx.query(`INSERT INTO notification_outbox (channel_id, organization_id, idempotency_key, payload) VALUES ($1, $2, $3, $4)`,
          [digestHook.channel.id, rows[0]!.id, `burst:${i}`, JSON.stringify({ event: 'alert.opened', organizationId: rows[0]!.id, alert: null, text: `device ${i} offline` })]);
      }
    });
    await until(async () => (await h.server.notifications.flush(), hooks.received.filter((r) => r.path === '/digest').length > before), 20_000);
    await h.server.notifications.flush();
    const digests = hooks.received.filter((r) => r.path === '/digest');
    expect(digests.length - before).toBe(1);
    expect(JSON.parse(digests.at(-1)!.body)).toMatchObject({ event: 'alert.digest', count: 25 });
    const pending = await h.server.services.db.query<{ n: number }>("SELECT count(*)::int AS n FROM notification_outbox WHERE channel_id = $1 AND state <> 'sent'", [digestHook.channel.id]);
    expect(pending.rows[0]!.n).toBe(0);
  }, 60_000);

  it('refuses metadata and link-local targets always, bad schemes and unknown metrics with clear errors', async () => {
    for (const target of ['http://169.254.169.254/latest/meta-data', 'http://[fe80::1]/', 'http://[::ffff:169.254.169.254]/']) {
      expect(await codeOf(owner.channels.create.mutate({ name: `meta ${target}`, kind: 'webhook', target }))).toBe('BAD_REQUEST');
    }
    expect(await codeOf(owner.channels.create.mutate({ name: 'ftp', kind: 'teams', target: 'ftp://example.com/x' }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.channels.create.mutate({ name: 'mail', kind: 'email', target: 'not-an-address' }))).toBe('BAD_REQUEST');
    expect(await codeOf(h.admin.admin.alerting.rules.create.mutate({ org, name: 'temp', when: 'temperature > 80' }))).toBe('BAD_REQUEST');
    expect(await codeOf(h.admin.admin.alerting.rules.create.mutate({ org, name: 'neg', when: 'offline > -5m' }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.alertRules.create.mutate({ name: 'neg', condition: { kind: 'metric', metric: 'cpu', op: '>', threshold: 90, forSec: -1 } }))).toBe('BAD_REQUEST');
  });

  it('opens muted inside a maintenance window, and opens offline alerts from the scheduler', async () => {
    const device = await enroll('quiet');
    await owner.maintenance.create.mutate({ deviceId: device.deviceId, startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3_600_000), reason: 'patching' });
    const hookCount = hooks.received.length;
    await owner.alertRules.create.mutate({ name: 'down', condition: { kind: 'offline', forSec: 60 }, channelIds: [(await owner.channels.list.query()).find((c) => c.name === 'hook')!.id] });
    await h.server.services.db.query("UPDATE devices SET status = 'offline', last_seen = NOW() - interval '10 minutes' WHERE id = $1", [device.deviceId]);
    await until(async () => (await owner.alerts.list.query({ deviceId: device.deviceId })).some((a) => a.ruleName === 'down'), 30_000);
    const [alert] = (await owner.alerts.list.query({ deviceId: device.deviceId })).filter((a) => a.ruleName === 'down');
    expect(alert).toMatchObject({ muted: true, state: 'open' });
    await h.server.notifications.flush();
    expect(hooks.received.length).toBe(hookCount);
    // Back online: the scheduler resolves it.
    await h.server.services.db.query("UPDATE devices SET status = 'online', last_seen = NOW() WHERE id = $1", [device.deviceId]);
    await until(async () => (await owner.alerts.get.query({ id: alert!.id })).state === 'resolved', 30_000);
  }, 90_000);
});
