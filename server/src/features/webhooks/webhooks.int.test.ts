import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_EVENT_TYPES } from '@ninjait/shared';
import {
  codeOf, fakeInventory, fakeSampleRecord, relationalEngines, startHarness, type Client, type Harness,
} from '../../../test-support/index.ts';
import { until } from '../../../test-support/command-fixtures.ts';
import { startServer, type RunningServer } from '../../app/create-app.ts';
import { createIngestLogReader } from '../ingest/log-reader.ts';
import { createRelationalSink } from '../ingest/sinks/relational-sink.ts';
import { createCheckedSubscription } from './service.ts';

interface Received { headers: IncomingHttpHeaders; body: string; path: string; status: number }

/** A real HTTP receiver: records every POST; answers from `script[path]` (first entries first), else 200. */
async function startReceiver() {
  const received: Received[] = [];
  const script = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      const status = script.get(path)?.shift() ?? 200;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, script, at: (path: string) => received.filter((r) => r.path === path), close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** How a receiver checks a request, as the README documents it: HMAC-SHA256 over "<t>.<body>" with the secret. */
function verifySignature(secret: string, request: Received): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(request.headers['x-ninjait-signature']));
  if (!match || Math.abs(Date.now() / 1000 - Number(match[1])) > 300) return false;
  return createHmac('sha256', secret).update(`${match[1]}.${request.body}`).digest('hex') === match[2];
}

const bodyOf = (request: Received) => JSON.parse(request.body) as { id: string; type: string; organizationId: string; data: Record<string, unknown> };
const cacheFor = (engine: 'pglite' | 'postgres') => (engine === 'postgres' ? 'redis' : 'memory') as 'redis' | 'memory';

describe.each(relationalEngines())('event webhooks on %s', (engine) => {
  let h: Harness;
  let hooks: Awaited<ReturnType<typeof startReceiver>>;
  let owner: Client;
  let ownerB: Client;
  let tech: Client;
  const org = `Hooks ${engine}`;

  beforeAll(async () => {
    hooks = await startReceiver();
    h = await startHarness({ relational: engine, cache: cacheFor(engine), env: { LOG_LEVEL: 'error', WEBHOOK_ALLOW_PRIVATE: '1', INGEST_LOG_RETENTION_SEC: '3600', RATE_LIMIT_MAX: '100000' } });
    await h.admin.admin.organizations.create.mutate({ name: org });
    await h.admin.admin.organizations.create.mutate({ name: `${org} other` });
    const password = 'correct horse battery';
    await h.admin.admin.users.create.mutate({ org, email: `owner-${engine}@h.test`, password, role: 'owner' });
    await h.admin.admin.users.create.mutate({ org, email: `tech-${engine}@h.test`, password, role: 'technician' });
    await h.admin.admin.users.create.mutate({ org: `${org} other`, email: `owner-${engine}@other.test`, password, role: 'owner' });
    const login = async (email: string) => h.http({ authorization: `Bearer ${(await h.http().auth.login.mutate({ email, password })).sessionToken}` });
    owner = await login(`owner-${engine}@h.test`);
    tech = await login(`tech-${engine}@h.test`);
    ownerB = await login(`owner-${engine}@other.test`);
  }, 300_000);

  afterAll(async () => {
    await h?.stop();
    await hooks?.close();
  });

  async function enroll(name: string) {
    const { token } = await h.admin.admin.tokens.create.mutate({ org });
    const device = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(`${engine}-${name}`) });
    return { ...device, agent: h.ws({ deviceId: device.deviceId, deviceSecret: device.deviceSecret }) };
  }

  const flushUntil = (check: () => boolean, timeoutMs = 20_000) => until(async () => (await h.server.notifications.flush(), check()), timeoutMs);

  it('delivers every event type once, signed, to the organization that subscribed and to no other', async () => {
    const all = await owner.webhooks.create.mutate({ name: 'everything', url: `${hooks.url}/all`, eventTypes: [...WEBHOOK_EVENT_TYPES] });
    expect(all.signingSecret).toMatch(/^whsec_/);
    const other = await ownerB.webhooks.create.mutate({ name: 'everything', url: `${hooks.url}/other`, eventTypes: [...WEBHOOK_EVENT_TYPES] });
    expect(other.subscription.id).not.toBe(all.subscription.id);
    // Technicians read the webhooks but cannot manage them; nobody sees another organization's.
    expect((await tech.webhooks.list.query()).map((s) => s.name)).toEqual(['everything']);
    expect(await codeOf(tech.webhooks.create.mutate({ name: 'x', url: `${hooks.url}/x`, eventTypes: ['device.online'] }))).toBe('FORBIDDEN');
    expect(await codeOf(ownerB.webhooks.deliveries.query({ id: all.subscription.id }))).toBe('NOT_FOUND');

    const device = await enroll('one'); // device.enrolled
    const t0 = Date.now() - 30_000;
    await device.agent.agent.push.mutate({ records: [fakeSampleRecord(1, t0, 40)] }); // device.online
    await h.server.drained();
    await flushUntil(() => hooks.at('/all').some((r) => bodyOf(r).type === 'device.online'));

    // Quiet for ten minutes: the sweeper marks it offline; a fresh sample brings it back (a second, distinct online event).
    await h.server.services.db.query("UPDATE devices SET last_seen = NOW() - interval '10 minutes' WHERE id = $1", [device.deviceId]);
    await flushUntil(() => hooks.at('/all').some((r) => bodyOf(r).type === 'device.offline'));
    await device.agent.agent.push.mutate({ records: [fakeSampleRecord(2, Date.now(), 40)] });
    await h.server.drained();
    await flushUntil(() => hooks.at('/all').filter((r) => bodyOf(r).type === 'device.online').length === 2);

    // A command the agent reports finished.
    const command = await owner.commands.run.mutate({ deviceId: device.deviceId, script: 'echo hi' });
    await h.server.services.db.query("UPDATE commands SET status = 'sent', sent_at = NOW() WHERE id = $1", [command.id]);
    await device.agent.agent.commandResult.mutate({ commandId: command.id, status: 'succeeded', exitCode: 0, error: null });
    // The agent repeats its report (a retry after a lost answer): still one event.
    await device.agent.agent.commandResult.mutate({ commandId: command.id, status: 'succeeded', exitCode: 0, error: null });

    const ticket = await owner.tickets.create.mutate({ title: 'Printer jammed', priority: 'low' });
    await owner.tickets.update.mutate({ id: ticket.id, priority: 'high' });

    // An alert opens and resolves.
    await h.admin.admin.alerting.rules.create.mutate({ org, name: 'hot', when: 'cpu >= 0' });
    await device.agent.agent.push.mutate({ records: [fakeSampleRecord(3, Date.now(), 50)] });
    await h.server.drained();
    await flushUntil(() => hooks.at('/all').some((r) => bodyOf(r).type === 'alert.opened'));
    await h.admin.admin.alerting.rules.update.mutate({ org, rule: 'hot', when: 'cpu > 100' });
    await device.agent.agent.push.mutate({ records: [fakeSampleRecord(4, Date.now(), 50)] });
    await h.server.drained();

    await owner.devices.decommission.mutate({ id: device.deviceId });
    await flushUntil(() => ['alert.resolved', 'device.decommissioned'].every((type) => hooks.at('/all').some((r) => bodyOf(r).type === type)));

    // A replay of the whole ingest log through the relational sink (another instance after a crash) publishes nothing new.
    const rows = await createIngestLogReader(h.server.services.db, { capacityRows: 100 }).readAfter(0, 1000);
    expect(await createRelationalSink(h.server.services.db, h.server.services.events).write(rows, new AbortController().signal)).toEqual({ ok: true });
    await h.server.notifications.flush();

    const received = hooks.at('/all');
    const counts = Object.fromEntries(WEBHOOK_EVENT_TYPES.map((type) => [type, received.filter((r) => bodyOf(r).type === type).length]));
    expect(counts).toEqual({
      'device.enrolled': 1, 'device.online': 2, 'device.offline': 1, 'device.decommissioned': 1, 'command.finished': 1,
      'ticket.created': 1, 'ticket.changed': 1, 'alert.opened': 1, 'alert.resolved': 1,
    });
    const orgId = bodyOf(received[0]!).organizationId;
    for (const request of received) {
      expect(verifySignature(all.signingSecret, request)).toBe(true);
      expect(request.headers['x-ninjait-event']).toBe(bodyOf(request).id);
      expect(request.headers['x-ninjait-event-type']).toBe(bodyOf(request).type);
      expect(bodyOf(request).organizationId).toBe(orgId);
    }
    expect(new Set(received.map((r) => bodyOf(r).id)).size).toBe(received.length);
    expect(verifySignature('whsec_wrong', received[0]!)).toBe(false);
    expect(received.find((r) => bodyOf(r).type === 'command.finished')!.body).not.toContain('echo hi');
    expect(hooks.at('/other')).toEqual([]);

    // The delivery log, for technicians too.
    const log = await tech.webhooks.deliveries.query({ id: all.subscription.id, limit: 100 });
    expect(log).toHaveLength(received.length);
    expect(log.every((entry) => entry.ok && entry.statusCode === 200 && entry.state === 'sent')).toBe(true);
  }, 180_000);

  it('retries a failing receiver with backoff until one success, without holding up the others', async () => {
    const flaky = await owner.webhooks.create.mutate({ name: 'flaky', url: `${hooks.url}/flaky`, eventTypes: ['ticket.created'] });
    const steady = await owner.webhooks.create.mutate({ name: 'steady', url: `${hooks.url}/steady`, eventTypes: ['ticket.created'] });
    hooks.script.set('/flaky', [500]);
    await owner.tickets.create.mutate({ title: 'Flaky receiver', priority: 'low' });
    await flushUntil(() => hooks.at('/flaky').length === 1 && hooks.at('/steady').length === 1);
    expect(hooks.at('/flaky')[0]!.status).toBe(500);

    const [failed] = await owner.webhooks.deliveries.query({ id: flaky.subscription.id });
    expect(failed).toMatchObject({ ok: false, statusCode: 500, state: 'pending', attempt: 1 });
    const backoff = await h.server.services.db.query<{ waitMs: number }>(
      `SELECT (extract(epoch FROM next_attempt_at - NOW()) * 1000)::int AS "waitMs" FROM notification_outbox WHERE subscription_id = $1`, [flaky.subscription.id]);
    expect(backoff.rows[0]!.waitMs).toBeGreaterThan(1_000);
    expect((await owner.webhooks.list.query()).find((s) => s.id === flaky.subscription.id)).toMatchObject({ consecutiveFailures: 1, pending: 1 });

    // The dispatcher's own timer retries after the backoff.
    await until(() => hooks.at('/flaky').length === 2, 20_000, 200);
    await h.server.notifications.flush();
    const attempts = hooks.at('/flaky');
    expect(attempts.map((r) => r.status)).toEqual([500, 200]);
    expect(attempts[1]!.headers['x-ninjait-event']).toBe(attempts[0]!.headers['x-ninjait-event']);
    expect(attempts[1]!.headers['x-ninjait-delivery']).toBe(attempts[0]!.headers['x-ninjait-delivery']);
    const log = await owner.webhooks.deliveries.query({ id: flaky.subscription.id });
    expect(log.map((entry) => [entry.ok, entry.attempt, entry.state])).toEqual([[true, 2, 'sent'], [false, 1, 'sent']]);
    expect(hooks.at('/steady')).toHaveLength(1);
    expect((await owner.webhooks.list.query()).find((s) => s.id === flaky.subscription.id)).toMatchObject({ consecutiveFailures: 0, pending: 0 });

    // Resend: a new delivery of the same event, with the same event id.
    const eventId = String(attempts[0]!.headers['x-ninjait-event']);
    expect(await codeOf(tech.webhooks.resend.mutate({ id: flaky.subscription.id, eventId }))).toBe('FORBIDDEN');
    expect(await codeOf(ownerB.webhooks.resend.mutate({ id: flaky.subscription.id, eventId }))).toBe('NOT_FOUND');
    expect(await codeOf(owner.webhooks.resend.mutate({ id: steady.subscription.id, eventId: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
    await owner.webhooks.resend.mutate({ id: flaky.subscription.id, eventId });
    await flushUntil(() => hooks.at('/flaky').length === 3);
    const resent = hooks.at('/flaky')[2]!;
    expect(resent.headers['x-ninjait-event']).toBe(eventId);
    expect(resent.headers['x-ninjait-delivery']).not.toBe(attempts[0]!.headers['x-ninjait-delivery']);
    expect(bodyOf(resent)).toEqual(bodyOf(attempts[1]!));
    expect(verifySignature(flaky.signingSecret, resent)).toBe(true);

    // Send test: now, signed, logged.
    const test = await owner.webhooks.test.mutate({ id: steady.subscription.id });
    expect(test).toMatchObject({ ok: true, statusCode: 200 });
    expect(bodyOf(hooks.at('/steady').at(-1)!)).toMatchObject({ type: 'webhook.test', id: test.eventId });
    expect(verifySignature(steady.signingSecret, hooks.at('/steady').at(-1)!)).toBe(true);
    await owner.webhooks.update.mutate({ id: flaky.subscription.id, enabled: false });
    await owner.webhooks.update.mutate({ id: steady.subscription.id, enabled: false });
  }, 90_000);

  it('refuses link-local and metadata URLs at creation, private ones unless allowed, and any of them at send time', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[fe80::1]/', 'http://[::ffff:169.254.169.254]/', 'file:///etc/passwd', 'http://u:p@example.com/']) {
      expect(await codeOf(owner.webhooks.create.mutate({ name: `bad ${url}`, url, eventTypes: ['ticket.created'] })), url).toBe('BAD_REQUEST');
    }
    expect(await codeOf(owner.webhooks.create.mutate({ name: 'none', url: `${hooks.url}/x`, eventTypes: [] }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.webhooks.create.mutate({ name: 'odd', url: `${hooks.url}/x`, eventTypes: ['device.exploded' as never] }))).toBe('BAD_REQUEST');
    const { rows } = await h.server.services.db.query<{ id: string }>('SELECT id FROM organizations WHERE name = $1', [org]);
    await expect(createCheckedSubscription(h.server.services.db, rows[0]!.id, { name: 'private', url: `${hooks.url}/private`, eventTypes: ['ticket.created'], enabled: true }, { allowPrivate: false, createdBy: null }))
      .rejects.toThrow(/loopback or private/);

    // A subscription whose address became link-local after creation (DNS moved): refused when sending, not retried.
    const moved = await owner.webhooks.create.mutate({ name: 'moved', url: `${hooks.url}/moved`, eventTypes: ['ticket.created'] });
    await h.server.services.db.query("UPDATE webhook_subscriptions SET url = 'http://169.254.169.254/latest/meta-data' WHERE id = $1", [moved.subscription.id]);
    await owner.tickets.create.mutate({ title: 'Moved receiver', priority: 'low' });
    await until(async () => (await h.server.notifications.flush(), (await owner.webhooks.deliveries.query({ id: moved.subscription.id })).length > 0), 20_000);
    const [refused] = await owner.webhooks.deliveries.query({ id: moved.subscription.id });
    expect(refused).toMatchObject({ ok: false, state: 'failed', error: expect.stringMatching(/link-local/) });
    expect(hooks.at('/moved')).toEqual([]);
    await owner.webhooks.delete.mutate({ id: moved.subscription.id });
  }, 60_000);

  it('sends nothing twice across a restart in the middle of retrying', async () => {
    const hook = await owner.webhooks.create.mutate({ name: 'restart', url: `${hooks.url}/restart`, eventTypes: ['ticket.created'] });
    hooks.script.set('/restart', [503]);
    await owner.tickets.create.mutate({ title: 'Across a restart', priority: 'low' });
    await flushUntil(() => hooks.at('/restart').length === 1);
    await h.server.close();
    let restarted: RunningServer | null = null;
    try {
      restarted = await startServer(h.server.services.env);
      const server = restarted;
      await until(async () => (await server.notifications.flush(), hooks.at('/restart').length >= 2), 30_000, 200);
      await server.notifications.flush();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await server.notifications.flush();
      expect(hooks.at('/restart').map((r) => r.status)).toEqual([503, 200]);
      const state = await server.services.db.query<{ state: string; attempts: number }>(
        'SELECT state, attempts FROM notification_outbox WHERE subscription_id = $1', [hook.subscription.id]);
      expect(state.rows).toEqual([{ state: 'sent', attempts: 2 }]);
    } finally {
      await restarted?.close();
    }
  }, 90_000);
});
