import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, createTRPCUntypedClient, createWSClient, httpLink, wsLink, type TRPCClient } from '@trpc/client';
import { WebSocket } from 'ws';
import { LOCAL_ADMIN_HEADER, openRelationalStore, readLocalAdminToken, type AppRouter } from '@ninjait/server';
import { fakeInventory, fakeSampleRecord } from '@ninjait/server/testing';
import { freePort, SERVER_CLI, startCli, waitForHttp, type Proc } from '../support/processes.ts';
import { hasProcedure, PASSWORD } from './support.ts';

/**
 * No secret reaches a log line, an error answer or the audit log. A real server process runs
 * at LOG_LEVEL=trace through a scenario that creates and uses every kind of secret (passwords,
 * wrong passwords, session ids, enrollment tokens, guessed tokens, device secrets, the local
 * admin token); then its whole output, every error it answered, and every audit_log and logs
 * document it stored are searched for each secret.
 */
describe('secrets stay out of logs, errors and the audit log', () => {
  let dir: string;
  let port: number;
  let server: Proc | undefined;
  const secrets = new Map<string, string>();
  const errors: string[] = [];
  const sockets: { close(): Promise<void> }[] = [];
  const keep = (label: string, secret: string) => {
    secrets.set(label, secret);
    return secret;
  };
  /** Runs a call expected to fail and keeps everything it answered. */
  const failing = async (label: string, call: () => Promise<unknown>) => {
    const answer = await call().then(
      () => `${label}: unexpectedly succeeded`,
      (error: { message: string; data?: unknown; shape?: unknown }) => `${label}: ${error.message} ${JSON.stringify(error.shape ?? null)}`,
    );
    errors.push(answer);
    return answer;
  };
  const http = (headers: Record<string, string> = {}): TRPCClient<AppRouter> =>
    createTRPCClient<AppRouter>({ links: [httpLink({ url: `http://127.0.0.1:${port}/trpc`, headers })] });
  const agentClient = (deviceId: string, deviceSecret: string) => {
    const socket = createWSClient({ url: `ws://127.0.0.1:${port}/trpc`, WebSocket: WebSocket as never, connectionParams: { deviceId, deviceSecret }, retryDelayMs: () => 60_000 });
    sockets.push(socket);
    return createTRPCUntypedClient<AppRouter>({ links: [wsLink({ client: socket })] });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-secrets-'));
    port = await freePort();
    // Embedded stores only (PGlite in DATA_DIR, documents in it), whatever CI configures: the scan
    // reads them after the process stops, and the shared PostgreSQL/Redis stay untouched.
    server = startCli(SERVER_CLI, ['serve'], {
      PORT: String(port), DATA_DIR: dir, LOG_LEVEL: 'trace', DRAIN_POLL_MS: '50',
      DATABASE_URL: undefined, REDIS_URL: undefined, MONGODB_URL: undefined, INFLUX_URL: undefined, CLICKHOUSE_URL: undefined,
    });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`).catch((error: Error) => {
      throw new Error(`${error.message}\n${server?.output()}`);
    });
  }, 150_000);
  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await server?.kill();
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('runs a scenario with every kind of secret, then finds none of them where they must not be', async () => {
    const admin = http({ [LOCAL_ADMIN_HEADER]: keep('local admin token', (await readLocalAdminToken(dir))!) });
    const org = await admin.admin.organizations.create.mutate({ name: 'Secrets' });
    const ownerPassword = keep('owner password', `owner-${randomBytes(12).toString('hex')}`);
    await admin.admin.users.create.mutate({ org: org.id, email: 'owner@secrets.test', password: ownerPassword, role: 'owner' });
    await admin.admin.users.create.mutate({ org: org.id, email: 'viewer@secrets.test', password: keep('viewer password', `viewer-${randomBytes(12).toString('hex')}`), role: 'viewer' });
    await failing('wrong password', () => http().auth.login.mutate({ email: 'owner@secrets.test', password: keep('wrong password', `typo-${randomBytes(12).toString('hex')}`) }));
    await failing('unknown user', () => http().auth.login.mutate({ email: 'nobody@secrets.test', password: keep('unknown user password', `guess-${randomBytes(12).toString('hex')}`) }));
    await failing('short password', () => admin.admin.users.create.mutate({ org: org.id, email: 'short@secrets.test', password: keep('rejected password', `s${randomBytes(3).toString('hex')}`), role: 'viewer' }));
    const { sessionToken } = await http().auth.login.mutate({ email: 'owner@secrets.test', password: ownerPassword });
    keep('session id', sessionToken);
    const owner = http({ authorization: `Bearer ${sessionToken}` });
    await failing('forged session', () => http({ authorization: `Bearer ${keep('forged session', `ns_${randomBytes(32).toString('base64url')}`)}` }).auth.me.query());

    const { token } = await owner.tokens.create.mutate({ name: 'scan', maxUses: 2 });
    keep('enrollment token', token);
    const enrolled = await http().agent.enroll.mutate({ token, inventory: fakeInventory('secrets-machine') });
    keep('device secret', enrolled.deviceSecret);
    await failing('guessed token', () => http().agent.enroll.mutate({ token: keep('guessed token', `nit_${randomBytes(32).toString('base64url')}`), inventory: fakeInventory('guess') }));
    const adminToken = await admin.admin.tokens.create.mutate({ org: org.id, name: 'admin-made' });
    keep('admin-made enrollment token', adminToken.token);
    const link = await owner.updates.installLinks.mutate({});
    keep('install-link token', link.token);

    const agent = agentClient(enrolled.deviceId, enrolled.deviceSecret);
    await agent.mutation('agent.heartbeat', { agentVersion: '0.1.0', intervalMs: 15_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0, errors: [] });
    await agent.mutation('agent.push', { records: [fakeSampleRecord(1)] });
    const wrongSecret = keep('wrong device secret', `nds_${randomBytes(32).toString('base64url')}`);
    await failing('wrong device secret', () => agentClient(enrolled.deviceId, wrongSecret).mutation('agent.heartbeat', { agentVersion: '0.1.0', intervalMs: 15_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0 }));
    await failing('confirm with a wrong secret', () => http().updates.confirm.mutate({ deviceId: enrolled.deviceId, deviceSecret: wrongSecret, version: '0.1.0' }));
    if (hasProcedure('agent.rotateSecret')) {
      const { deviceSecret } = await agent.mutation('agent.rotateSecret', undefined) as { deviceSecret: string };
      keep('rotated device secret', deviceSecret);
    }
    await owner.commands.run.mutate({ deviceId: enrolled.deviceId, script: 'echo scan' });
    if (hasProcedure('users.changePassword')) {
      const next = keep('changed password', `changed-${randomBytes(12).toString('hex')}`);
      const changed = await owner.users.changePassword.mutate({ currentPassword: ownerPassword, newPassword: next });
      keep('session after password change', changed.sessionToken!);
      await failing('change with a wrong current password', () => http({ authorization: `Bearer ${changed.sessionToken}` }).users.changePassword.mutate({
        currentPassword: keep('wrong current password', `nope-${randomBytes(12).toString('hex')}`), newPassword: PASSWORD,
      }));
      await http({ authorization: `Bearer ${changed.sessionToken}` }).auth.logout.mutate();
    } else {
      await owner.auth.logout.mutate();
    }
    await failing('logged-out session', () => owner.auth.me.query());
    const viewer = await http().auth.login.mutate({ email: 'viewer@secrets.test', password: secrets.get('viewer password')! });
    keep('viewer session id', viewer.sessionToken);
    await failing('viewer creates a token', () => http({ cookie: `ninjait_session=${viewer.sessionToken}` }).tokens.create.mutate({}));

    // Give the log shipper a moment to store warnings and errors, then stop so everything is flushed.
    await new Promise((done) => setTimeout(done, 1_500));
    await Promise.all(sockets.map((socket) => socket.close()));
    await server!.kill('SIGTERM');
    const db = await openRelationalStore({ dataDir: join(dir, 'pglite') }); // where the server keeps PGlite (app/create-app.ts)
    const audit = (await db.query<{ doc: unknown }>('SELECT doc FROM audit_log')).rows.map((row) => JSON.stringify(row.doc));
    const logs = (await db.query<{ doc: unknown }>('SELECT doc FROM logs')).rows.map((row) => JSON.stringify(row.doc));
    await db.close();
    const output = server!.output();

    // The scan can only pass for the right reason: it reads this server's output (which logs
    // little: no per-request lines, even at trace), its answers and its stored documents.
    if (process.env.SECURITY_DEBUG) console.log(output);
    expect(output).toContain('NinjaIT server listening');
    expect(output).toContain(enrolled.deviceId);
    expect(errors.length).toBeGreaterThanOrEqual(10);
    expect(audit.length).toBeGreaterThan(8);
    expect(errors.filter((error) => error.includes('unexpectedly succeeded'))).toEqual([]);
    expect(secrets.size).toBeGreaterThanOrEqual(12);

    const places = { 'server output': output, 'error answers': errors.join('\n'), 'audit_log documents': audit.join('\n'), 'logs documents': logs.join('\n') };
    const leaks = [...secrets].flatMap(([label, secret]) =>
      Object.entries(places).filter(([, text]) => text.includes(secret)).map(([place]) => `${label} in ${place}`));
    expect(leaks).toEqual([]);
  }, 150_000);
});
