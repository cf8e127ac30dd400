import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../agent.ts';
import { runCli } from '../cli/cli.ts';
import { EXIT } from '../cli/io.ts';
import { readConfig } from '../config/file.ts';
import { resolvePaths } from '../config/paths.ts';
import { readServerPins, writeServerPins } from '../config/server-pins.ts';
import { makeServerCerts, type ServerCerts, type TestCert } from '../testing/certs.ts';
import { FAKE_TOKEN, startFakeServer, type FakeServer } from '../testing/fake-server.ts';
import { fakeInventory, fakeSample } from '../testing/fixtures.ts';
import { memoryLogger } from '../testing/log.ts';
import { spkiPin } from './tls-connect.ts';

/**
 * The agent's trust in its server over real TLS: what enrollment pins, what `run` accepts, and
 * how a key announced by the server becomes acceptable, against servers with real certificates.
 */
let tmp: ServerCerts;
let certA: TestCert;
let certB: TestCert;
beforeAll(() => ({ a: certA, b: certB } = tmp = makeServerCerts('ninjait-pinning-')));
afterAll(() => tmp.cleanup());

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(cert: TestCert, extra: Parameters<typeof startFakeServer>[0] = {}): Promise<FakeServer> {
  const s = await startFakeServer({ tls: { cert: cert.cert, key: cert.key }, intervalMs: 1_000, ...extra });
  cleanups.push(() => s.close());
  return s;
}

let dirs = 0;
const dataDir = () => join(tmp.dir, `agent-${++dirs}`);

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { LOG_LEVEL: 'silent' }, signal: new AbortController().signal });
  return { code, stdout, stderr };
}

/** Runs the agent from `dir` as `run` would: its config, its pins file. */
function run(dir: string) {
  const paths = resolvePaths({ dataDir: dir });
  const { log, lines } = memoryLogger('info');
  const pins = readServerPins(paths.serverPinsFile);
  const agent = runAgent({
    config: readConfig(paths.configFile)!, outboxFile: paths.outboxFile, log, linkStateFile: paths.linkStateFile,
    serverPins: pins && { pins, save: (next) => writeServerPins(paths.serverPinsFile, next) },
    sample: async () => fakeSample(), inventory: async () => fakeInventory(),
  });
  cleanups.push(() => agent.stop());
  return { agent, lines, paths };
}

const until = async (what: string, cond: () => boolean, timeoutMs = 8_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('server key pinning', () => {
  it('computes the pin of the presented key the way openssl does', async () => {
    const s = await server(certA);
    const url = new URL(s.url);
    const pin = await new Promise<string | null>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
        resolve(spkiPin(socket.getPeerCertificate()));
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(pin).toBe(certA.pin);
  });

  it('refuses to enroll with a self-signed server it has no pin or CA for, before the token is sent', async () => {
    const s = await server(certA);
    const r = await cli(['enroll', '--server', s.url, '--token', FAKE_TOKEN, '--data-dir', dataDir()]);
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toMatch(/Cannot reach the server at https:.*not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT.*--ca-file.*--pin/s);
    expect(s.enrollments).toEqual([]);
  });

  it('refuses to enroll with a server whose key is not the --pin given, before the token is sent', async () => {
    const s = await server(certA);
    const r = await cli(['enroll', '--server', s.url, '--token', FAKE_TOKEN, '--pin', `sha256/${certB.pin}`, '--data-dir', dataDir()]);
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toContain(`presented the key sha256/${certA.pin}, not the one this agent pinned (sha256/${certB.pin})`);
    expect(s.enrollments).toEqual([]);
  });

  it('enrolls with --pin (self-signed is fine then), pins it, and runs against that key', async () => {
    const s = await server(certA);
    const dir = dataDir();
    const r = await cli(['enroll', '--server', s.url, '--token', FAKE_TOKEN, '--pin', `sha256/${certA.pin}`, '--data-dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Server key pinned: sha256/${certA.pin}`);
    expect(readServerPins(resolvePaths({ dataDir: dir }).serverPinsFile)).toEqual([certA.pin]);
    run(dir);
    await until('a heartbeat over the pinned connection', () => s.heartbeats.length > 0);
  });

  it('with --ca-file, checks the chain and pins the key the certificate carries', async () => {
    const s = await server(certA);
    const dir = dataDir();
    const r = await cli(['enroll', '--server', s.url, '--token', FAKE_TOKEN, '--ca-file', certA.certFile, '--data-dir', dir]);
    expect(r.code).toBe(EXIT.ok);
    expect(readServerPins(resolvePaths({ dataDir: dir }).serverPinsFile)).toEqual([certA.pin]);
    // The wrong CA is a certificate error, not a silent success.
    const wrong = await cli(['enroll', '--server', s.url, '--token', FAKE_TOKEN, '--ca-file', certB.certFile, '--data-dir', dataDir()]);
    expect(wrong.stderr).toMatch(/not trusted/);
  });

  it('run refuses a server presenting another key: not even the upgrade request reaches it', async () => {
    const a = await server(certA);
    const dir = dataDir();
    expect((await cli(['enroll', '--server', a.url, '--token', FAKE_TOKEN, '--pin', certA.pin, '--data-dir', dir])).code).toBe(EXIT.ok);
    const impostor = await server(certB);
    const paths = resolvePaths({ dataDir: dir });
    writeFileSync(paths.configFile, JSON.stringify({ ...readConfig(paths.configFile), server: impostor.url }));
    const { lines } = run(dir);
    await until('the agent to give up on the impostor once', () => lines.some((l) => String(l.err).includes('presented the key')));
    await new Promise((r) => setTimeout(r, 1_500));
    // It did connect, and nothing past the TLS handshake reached the impostor.
    expect(impostor.sockets).toBeGreaterThan(0);
    expect({ requests: impostor.requests, connections: impostor.connections, heartbeats: impostor.heartbeats.length }).toEqual({ requests: 0, connections: 0, heartbeats: 0 });
    const said = lines.find((l) => String(l.err).includes('presented the key'));
    expect(String(said?.err)).toContain(`presented the key sha256/${certB.pin}, not the one this agent pinned (sha256/${certA.pin})`);
  });

  it('adds the keys the server announces, saves them, and accepts the new key after the switch', async () => {
    const a = await server(certA, { acceptedServerPins: [certB.pin] });
    const port = Number(new URL(a.url).port);
    const dir = dataDir();
    expect((await cli(['enroll', '--server', a.url, '--token', FAKE_TOKEN, '--pin', certA.pin, '--data-dir', dir])).code).toBe(EXIT.ok);
    const { paths } = run(dir);
    await until('the announced key to be saved', () => readServerPins(paths.serverPinsFile)?.includes(certB.pin) ?? false);
    expect(readServerPins(paths.serverPinsFile)).toEqual([certA.pin, certB.pin]);
    expect(JSON.parse(readFileSync(paths.configFile, 'utf8'))).not.toHaveProperty('pins');

    // The switch: the same address now presents key B. The running agent reconnects to it.
    await a.close();
    const b = await server(certB, { port });
    await until('a heartbeat over the new key', () => b.heartbeats.length > 0, 15_000);
  }, 30_000);
});
