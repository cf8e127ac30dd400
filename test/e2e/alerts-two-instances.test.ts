import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ADMIN_HEADER, readLocalAdminToken } from '@ninjait/server';
import { createScratchDatabase, dropRedisKeys, fakeInventory, fakeSampleRecord, startSmtpReceiver, startWebhookReceiver, type SmtpReceiver, type WebhookReceiver } from '@ninjait/server/testing';
import { httpClient, wsClient } from '@ninjait/server/testing/commands';
import { SERVER_CLI, freePort, startCli, waitFor, waitForHttp, type Proc } from '../support/processes.ts';

interface Post { alertId: string; event: string; delivery: string }

/** What the assertions need of each POST: the alert, the event and the delivery id. */
const postOf = (post: WebhookReceiver['received'][number]): Post => {
  const body = post.json as { event: string; alert: { id: string } | null };
  return { alertId: body.alert?.id ?? '', event: body.event, delivery: String(post.headers['x-ninjait-delivery']) };
};

const ready = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

/**
 * Two server processes on one PostgreSQL database and one Redis key space, as a scaled-out
 * install runs them: both drain the ingest log, both run the scheduler (offline checks under a
 * lease), both dispatchers poll the same outbox every half second. Each alert that fires (a
 * metric one from samples pushed through both instances, an offline one from the scheduler)
 * reaches the real webhook receiver exactly once and the real SMTP server exactly once.
 */
describe.skipIf(!ready)('alerts with two server instances on PostgreSQL + Redis', () => {
  const keySpace = `e2e-two-instances:${process.pid}:${randomBytes(3).toString('hex')}:`;
  const org = 'Two instances';
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let smtp: SmtpReceiver;
  let receiver: WebhookReceiver;
  const posts = (): Post[] => receiver.received.map(postOf);
  const servers: { proc: Proc; url: string; dataDir: string }[] = [];
  const sockets: { close(): void }[] = [];

  const start = async (name: string, shared: Record<string, string>) => {
    const port = await freePort();
    const dataDir = join(dir, name);
    const proc = startCli(SERVER_CLI, ['serve'], { ...shared, PORT: String(port), DATA_DIR: dataDir, INSTANCE_ID: name });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/readyz`).catch((error: Error) => {
      throw new Error(`${error.message}\n${proc.output().slice(-3_000)}`);
    });
    servers.push({ proc, url, dataDir });
    return { url, admin: httpClient(url, { [LOCAL_ADMIN_HEADER]: (await readLocalAdminToken(dataDir))! }) };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-e2e-two-'));
    database = await createScratchDatabase();
    smtp = await startSmtpReceiver();
    receiver = await startWebhookReceiver();
  }, 60_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(servers.map((server) => server.proc.kill('SIGKILL')));
    await receiver?.close();
    await smtp?.stop();
    await database?.drop();
    if (process.env.REDIS_URL) await dropRedisKeys(process.env.REDIS_URL, [`${keySpace}*`]);
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('sends one webhook POST and one email per alert, whichever instance evaluates and dispatches', async () => {
    const shared = {
      DATABASE_URL: database!.url, REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: keySpace, QUEUE_PREFIX: `${keySpace}q`,
      SECRETS_KEY: randomBytes(32).toString('base64'), WEBHOOK_ALLOW_PRIVATE: '1', SMTP_URL: smtp.url, LOG_LEVEL: 'warn',
    };
    // The first instance migrates the database; the second starts on it as a scaled-out instance would.
    const a = await start('instance-a', shared);
    const b = await start('instance-b', shared);

    await a.admin.admin.organizations.create.mutate({ name: org });
    await a.admin.admin.alerting.channels.create.mutate({ org, name: 'hook', kind: 'webhook', target: receiver.url });
    // Made on B: one database, so each instance sees what the other made.
    await b.admin.admin.alerting.channels.create.mutate({ org, name: 'mail', kind: 'email', target: 'oncall@example.test' });
    await b.admin.admin.alerting.rules.create.mutate({ org, name: 'hot', when: 'cpu >= 0', channels: ['hook', 'mail'], severity: 'critical' });
    await a.admin.admin.alerting.rules.create.mutate({ org, name: 'down', when: 'offline > 1m', channels: ['hook', 'mail'] });

    const { token } = await a.admin.admin.tokens.create.mutate({ org, maxUses: 2 });
    const hot = await httpClient(a.url).agent.enroll.mutate({ token, inventory: fakeInventory(`${keySpace}hot`) });
    const quiet = await httpClient(b.url).agent.enroll.mutate({ token, inventory: fakeInventory(`${keySpace}quiet`) });
    // The device reports through A, then (reconnected through a balancer) through B: both drain one log.
    const t0 = Date.now() - 60_000;
    for (const [server, seqs] of [[a, [1, 2]], [b, [3, 4]]] as const) {
      const socket = wsClient(server.url, { deviceId: hot.deviceId, deviceSecret: hot.deviceSecret });
      sockets.push(socket);
      await socket.client.agent.push.mutate({ records: seqs.map((seq) => fakeSampleRecord(seq, t0 + seq * 1000, 95)) });
    }
    // The other device went quiet ten minutes ago: whichever scheduler holds the lease opens "down".
    const db = new pg.Client({ connectionString: database!.url });
    await db.connect();
    try {
      await db.query("UPDATE devices SET status = 'offline', last_seen = NOW() - interval '10 minutes' WHERE id = $1", [quiet.deviceId]);

      await waitFor('a POST and a mail for both alerts', async () => posts().length >= 2 && smtp.messages.length >= 2, 30_000, 100).catch((error: Error) => {
        throw new Error(`${error.message}\nposts: ${posts().length}, mails: ${smtp.messages.length}\n${servers.map((s) => s.proc.output().slice(-1_500)).join('\n')}`);
      });
      // Both dispatchers keep polling the outbox: a second send of anything would arrive now.
      await new Promise((done) => setTimeout(done, 3_000));

      const { rows: alerts } = await db.query<{ id: string; deviceId: string; rule: string }>(
        'SELECT a.id, a.device_id AS "deviceId", r.name AS rule FROM alerts a JOIN alert_rules r ON r.id = a.rule_id ORDER BY r.name');
      expect(alerts.map((alert) => [alert.rule, alert.deviceId])).toEqual([['down', quiet.deviceId], ['hot', hot.deviceId]]);
      expect(posts().map((post) => post.event)).toEqual(['alert.opened', 'alert.opened']);
      expect(posts().map((post) => post.alertId).sort()).toEqual(alerts.map((alert) => alert.id).sort());
      expect(new Set(posts().map((post) => post.delivery)).size).toBe(2);
      expect(smtp.messages).toHaveLength(2);
      expect(smtp.messages.every((mail) => mail.to.join() === 'oncall@example.test')).toBe(true);
      const { rows: outbox } = await db.query<{ state: string; attempts: number }>('SELECT state, attempts FROM notification_outbox');
      expect(outbox).toEqual(Array.from({ length: 4 }, () => ({ state: 'sent', attempts: 1 })));
      // Both instances were up and racing all along.
      expect(servers.map((server) => server.proc.child.exitCode)).toEqual([null, null]);
    } finally {
      await db.end();
    }
  }, 120_000);
});
