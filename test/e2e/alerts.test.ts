import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, dropRedisKeys, startSmtpReceiver, startWebhookReceiver, type SmtpReceiver, type WebhookReceiver } from '@ninjait/server/testing';
import { AGENT_CLI, SERVER_CLI, freePort, runCli, startCli, waitFor, waitForHttp, type Proc } from '../support/processes.ts';

const KEY_PREFIX = `e2e-alerts:${process.pid}:${Date.now()}:`;

interface AlertRow { id: string; state: string; ruleName: string; deviceId: string; resolution: string | null }

/**
 * Alerts through real processes: the built server, the CLI, a real agent reporting this
 * machine's CPU every second, a real HTTP receiver and a real SMTP server process. A rule the
 * CPU always meets fires once; the receiver gets one signed POST and the mailbox one mail, also
 * across a server restart; changing the rule resolves it; stopping the agent raises "offline".
 */
describe('alerts end to end with a real agent', () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let smtp: SmtpReceiver;
  let serverEnv: Record<string, string>;
  let server: Proc | undefined;
  let agent: Proc | undefined;
  let receiver: WebhookReceiver;
  let secret = '';
  const agentDir = () => join(dir, 'agent');
  const cli = (...args: string[]) => runCli(SERVER_CLI, [...args, '--server', `http://127.0.0.1:${serverEnv.PORT}`, '--data-dir', serverEnv.DATA_DIR!]);
  const alerts = async () => JSON.parse(await cli('alerts', '--org', 'E2E Alerts', '--json')) as AlertRow[];
  const events = (event: string) => receiver.received.filter((r) => (r.json as { event?: string } | null)?.event === event);

  const startServer = async () => {
    server = startCli(SERVER_CLI, ['serve'], serverEnv);
    await waitForHttp(`http://127.0.0.1:${serverEnv.PORT}/readyz`).catch((error: Error) => {
      throw new Error(`${error.message}\n${server?.output()}`);
    });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-e2e-alerts-'));
    database = await createScratchDatabase();
    smtp = await startSmtpReceiver();
    receiver = await startWebhookReceiver();
    serverEnv = {
      PORT: String(await freePort()), DATA_DIR: join(dir, 'server'), AGENT_INTERVAL_MS: '1000', LOG_LEVEL: 'warn',
      WEBHOOK_ALLOW_PRIVATE: '1', SMTP_URL: smtp.url,
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: KEY_PREFIX, QUEUE_PREFIX: `${KEY_PREFIX}q` } : {}),
    };
    await startServer();
  }, 300_000);
  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await server?.kill('SIGKILL');
    await receiver?.close();
    await smtp?.stop();
    await database?.drop();
    if (process.env.REDIS_URL) await dropRedisKeys(process.env.REDIS_URL, [`${KEY_PREFIX}*`]);
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('fires once for a rule the CPU always meets: one signed POST, one mail', async () => {
    await cli('org', 'create', 'E2E Alerts');
    const hook = JSON.parse(await cli('channel', 'create', '--org', 'E2E Alerts', '--name', 'hook', '--type', 'webhook', '--url', receiver.url, '--json')) as { signingSecret: string };
    secret = hook.signingSecret;
    await cli('channel', 'create', '--org', 'E2E Alerts', '--name', 'mail', '--type', 'email', '--to', 'oncall@example.test');
    await cli('rule', 'create', '--org', 'E2E Alerts', '--name', 'cpu reading', '--when', 'cpu >= 0', '--channel', 'hook', '--channel', 'mail', '--severity', 'critical');
    const token = (await cli('token', 'create', '--org', 'E2E Alerts')).trim();
    await runCli(AGENT_CLI, ['enroll', '--server', `http://127.0.0.1:${serverEnv.PORT}`, '--token', token, '--data-dir', agentDir()]);
    agent = startCli(AGENT_CLI, ['run', '--data-dir', agentDir(), '--interval-ms', '1000']);
    await waitFor('the webhook and the mail', async () => events('alert.opened').length >= 1 && smtp.messages.length >= 1, 240_000).catch((error: Error) => {
      throw new Error(`${error.message}\nposts: ${receiver.received.length}, mails: ${smtp.messages.length}\nserver:\n${server?.output().slice(-3_000)}\nagent:\n${agent?.output().slice(-2_000)}`);
    });
    // More samples arrive, all meeting the rule: nothing new is sent.
    await new Promise((done) => setTimeout(done, 4_000));
    expect(events('alert.opened')).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    const [post] = events('alert.opened');
    const signature = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(post!.headers['x-ninjait-signature']));
    expect(signature).not.toBeNull();
    expect(createHmac('sha256', secret).update(`${signature![1]}.${post!.body}`).digest('hex')).toBe(signature![2]);
    expect(smtp.messages[0]!.to).toEqual(['oncall@example.test']);
    expect(await alerts()).toEqual([expect.objectContaining({ state: 'open', ruleName: 'cpu reading' })]);
  }, 420_000);

  it('sends nothing twice across a server restart mid-alert', async () => {
    await server!.kill('SIGTERM');
    await new Promise((done) => setTimeout(done, 2_000));
    await startServer();
    // The agent delivers its backlog and keeps reporting; the alert stays the same one.
    await new Promise((done) => setTimeout(done, 6_000));
    expect(events('alert.opened')).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    expect(await alerts()).toHaveLength(1);
  }, 240_000);

  it('resolves when the rule changes so the CPU no longer meets it, and says so once', async () => {
    await cli('rule', 'update', '--org', 'E2E Alerts', 'cpu reading', '--when', 'cpu > 100');
    const [resolved] = await waitFor('the alert to resolve', async () => {
      const list = await alerts();
      return list[0]?.state === 'resolved' ? list : null;
    }, 120_000);
    expect(resolved!.resolution).toBe('auto');
    await waitFor('the resolved notifications', async () => events('alert.resolved').length >= 1 && smtp.messages.length >= 2, 120_000);
    await new Promise((done) => setTimeout(done, 3_000));
    expect(events('alert.resolved')).toHaveLength(1);
    expect(smtp.messages).toHaveLength(2);
  }, 300_000);

  it('raises the offline alert when the agent stops', async () => {
    await cli('rule', 'create', '--org', 'E2E Alerts', '--name', 'down', '--when', 'offline > 1m', '--channel', 'hook');
    await agent!.kill('SIGTERM');
    const down = await waitFor('the offline alert', async () => (await alerts()).find((a) => a.ruleName === 'down' && a.state === 'open'), 150_000, 1_000);
    expect(down.deviceId).toBeTruthy();
    await waitFor('the offline notification', async () => events('alert.opened').length >= 2, 120_000);
  }, 360_000);
});
