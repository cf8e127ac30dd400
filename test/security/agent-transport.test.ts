import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, readConfig, readServerPins, resolvePaths, runAgent, runCli, writeServerPins, type RunningAgent } from '@ninjait/agent';
import { parseEnv, startServer, type RunningServer } from '@ninjait/server';
import { makeCert, type TestCert, memoryLogger } from '@ninjait/agent/testing';
import { createEnrollmentToken } from '@ninjait/server/domain/enrollment-tokens';
import { createOrganization } from '@ninjait/server/domain/organizations';
import { createScratchDatabase, fakeInventory, startHarness } from '@ninjait/server/testing';
import { freePort, waitFor } from '../support/processes.ts';
import { engineVariants } from './support.ts';

/**
 * The agent against the real server over real TLS: enrollment pins the key, a key the server
 * announces (TLS_NEXT_SPKI_PINS through `agent.heartbeat`) is accepted after the switch, a key it
 * did not announce is refused until a re-enrollment resets the pin; and a device whose
 * credentials the server refuses says so once per backoff step, and `status` shows it.
 */
describe.each(engineVariants())('agent transport against the real server ($name)', (engines) => {
  let dir: string;
  let certs: Record<'a' | 'b' | 'c', TestCert>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>> = null;
  let server: RunningServer | null = null;
  let agent: RunningAgent | null = null;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-agent-transport-'));
    certs = { a: makeCert(dir, 'key-a'), b: makeCert(dir, 'key-b'), c: makeCert(dir, 'key-c') };
    database = engines.relational === 'postgres' ? await createScratchDatabase() : null;
    port = await freePort();
  });
  // chdb holds one data folder per process: each test's server must be gone before the next starts.
  afterEach(async () => {
    await agent?.stop();
    agent = null;
    await server?.close();
    server = null;
  });
  afterAll(async () => {
    await database?.drop();
    await engines.reset();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  /** (Re)starts the one server on the same address and data, presenting `cert`. */
  async function serveWith(cert: TestCert, extra: Record<string, string> = {}) {
    await server?.close();
    server = await startServer(parseEnv({
      PORT: String(port), DATA_DIR: join(dir, 'server'), LOG_LEVEL: 'silent',
      TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile,
      ...(database ? { DATABASE_URL: database.url } : {}), ...engines.env, ...extra,
    }));
    return server;
  }

  async function cli(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { LOG_LEVEL: 'silent' }, signal: new AbortController().signal });
    return { code, stdout, stderr };
  }

  it('pins the key at enrollment, follows an announced rotation, refuses an unannounced key until re-enrolled', async () => {
    const first = await serveWith(certs.a, { TLS_NEXT_SPKI_PINS: `sha256/${certs.b.pin}` });
    const org = await createOrganization(first.services.db, 'Transport');
    const newToken = async () => (await createEnrollmentToken(server!.services.db, { organizationId: org.id, name: 't', expiresInSec: 600, maxUses: 1, createdBy: null })).token;
    const agentDir = join(dir, 'agent');
    const paths = resolvePaths({ dataDir: agentDir });

    const enrolled = await cli(['enroll', '--server', first.url, '--token', await newToken(), '--pin', `sha256/${certs.a.pin}`, '--data-dir', agentDir]);
    expect(enrolled.stderr).toBe('');
    expect(readServerPins(paths.serverPinsFile)).toEqual([certs.a.pin]);

    const { log, lines } = memoryLogger('info');
    const connects = () => lines.filter((l) => l.msg === 'connected to server').length;
    const pins = readServerPins(paths.serverPinsFile)!;
    agent = runAgent({
      config: readConfig(paths.configFile)!, outboxFile: paths.outboxFile, log, linkStateFile: paths.linkStateFile,
      serverPins: { pins, save: (next) => writeServerPins(paths.serverPinsFile, next) },
      inventory: async () => fakeInventory('transport-host'),
    });
    // The real heartbeat carries TLS_NEXT_SPKI_PINS: the agent pins key B too, and saves it.
    await waitFor('the announced key to be pinned', async () => readServerPins(paths.serverPinsFile)?.includes(certs.b.pin), 15_000, 100);
    expect(readServerPins(paths.serverPinsFile)).toEqual([certs.a.pin, certs.b.pin]);

    // The planned switch: same address, key B. The running agent reconnects and delivers.
    await serveWith(certs.b);
    const before = connects();
    await waitFor('a reconnect over key B', async () => connects() > before, 20_000, 100);
    // The device is authenticated over it: an ordinary heartbeat goes through.
    const beat = await agent.link.heartbeat({ agentVersion: '0.1.0', intervalMs: 30_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0, errors: [] });
    expect(beat.serverTime).toBeGreaterThan(0);

    // An unannounced key: refused, however long it is presented.
    await serveWith(certs.c);
    const afterC = connects();
    await waitFor('the agent to refuse key C', async () => lines.some((l) => String(l.err).includes(`presented the key sha256/${certs.c.pin}`)), 20_000, 100);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(connects()).toBe(afterC);
    await agent.stop();
    agent = null;

    // Break-glass: enrolling again with a token resets the pin.
    const again = await cli(['enroll', '--server', server!.url, '--token', await newToken(), '--pin', `sha256/${certs.c.pin}`, '--data-dir', agentDir]);
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain('(re-enrolled)');
    expect(readServerPins(paths.serverPinsFile)).toEqual([certs.c.pin]);
  }, 120_000);

  it('a device whose credentials the server refuses says so once per backoff step, and status shows it', async () => {
    const h = await startHarness({ relational: engines.relational, cache: engines.cache, env: engines.env });
    const agentDir = join(dir, 'refused');
    const paths = resolvePaths({ dataDir: agentDir });
    const { log, lines } = memoryLogger('info');
    let refused: RunningAgent | null = null;
    try {
      const org = await createOrganization(h.server.services.db, 'Refused');
      const { token } = await createEnrollmentToken(h.server.services.db, { organizationId: org.id, name: 't', expiresInSec: 600, maxUses: 1, createdBy: null });
      expect((await cli(['enroll', '--server', h.server.url, '--token', token, '--data-dir', agentDir])).code).toBe(EXIT.ok);
      // The secret no longer matches what the server holds (as after a rotation elsewhere, or a restore).
      const config = { ...readConfig(paths.configFile)!, deviceSecret: 'not-the-secret-the-server-holds' };
      refused = runAgent({
        config, outboxFile: paths.outboxFile, log, linkStateFile: paths.linkStateFile, refusalBackoff: { baseMs: 200, maxMs: 800 },
        inventory: async () => fakeInventory('refused-host'),
      });
      await new Promise((r) => setTimeout(r, 4_000));
    } finally {
      await refused?.stop();
      await h.stop();
    }
    const told = lines.filter((l) => String(l.msg).includes('refuses this device\'s credentials'));
    // Steps of 200, 400, 800, 800 ... ms: at most 7 in 4 s, however many calls the server refused.
    expect(told.length).toBeGreaterThanOrEqual(1);
    expect(told.length).toBeLessThanOrEqual(7);
    const loud = lines.filter((l) => Number(l.level) >= 40);
    for (const line of loud) expect(JSON.stringify(line)).not.toMatch(/"stack"|\\n\s+at /);
    const status = await cli(['status', '--data-dir', agentDir]);
    expect(status.stdout).toMatch(/Connection: +REFUSED: the server refuses this device's credentials since/);
  }, 60_000);
});
