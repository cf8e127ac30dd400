import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig, writeConfig } from '../config/file.ts';
import { resolvePaths } from '../config/paths.ts';
import { FAKE_DEVICE, FAKE_TOKEN, startFakeServer } from '../testing/fake-server.ts';
import { tempDir } from '../testing/temp.ts';
import { runCli } from './cli.ts';
import { EXIT } from './io.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { LOG_LEVEL: 'silent', ...env },
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}
const dataDir = () => {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
};

describe('ninjait-agent CLI', () => {
  it.each(['enroll', 'run', 'status'])('%s --help prints usage and exits 0', async (cmd) => {
    const r = await cli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: ninjait-agent ${cmd}`);
    expect(r.stdout).toContain('--data-dir');
  });

  it('prints the overview for --help, help, and no command', async () => {
    expect((await cli(['--help'])).stdout).toContain('Commands:');
    expect((await cli(['help', 'status'])).stdout).toContain('Usage: ninjait-agent status');
    const none = await cli([]);
    expect(none.code).toBe(EXIT.usage);
    expect(none.stderr).toContain('missing command');
  });

  it('rejects unknown commands and options with exit 2', async () => {
    expect((await cli(['frobnicate'])).code).toBe(EXIT.usage);
    const r = await cli(['status', '--bogus']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/bogus/);
    expect((await cli(['run', '--interval-ms', '5', '--data-dir', dataDir()])).code).toBe(EXIT.usage);
  });

  it('status on an empty data dir says not enrolled', async () => {
    const dir = dataDir();
    const r = await cli(['status', '--data-dir', dir]);
    expect(r.code).toBe(EXIT.notEnrolled);
    expect(r.stdout).toContain('not enrolled');
    const j = await cli(['status', '--json'], { NINJAIT_DATA_DIR: dir });
    expect(JSON.parse(j.stdout)).toMatchObject({ enrolled: false, outbox: null, configFile: join(dir, 'agent.json') });
  });

  it('run refuses to start when not enrolled', async () => {
    const r = await cli(['run', '--data-dir', dataDir()]);
    expect(r.code).toBe(EXIT.notEnrolled);
    expect(r.stderr).toContain('enroll');
  });

  it('enroll needs a server and a token', async () => {
    const r = await cli(['enroll', '--data-dir', dataDir(), '--token', FAKE_TOKEN]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('--server');
  });

  it('enrolls against a server, writes a 0600 config, then status shows it', async () => {
    const server = await startFakeServer();
    cleanups.push(() => server.close());
    const dir = dataDir();
    const r = await cli(['enroll', '--data-dir', dir], { NINJAIT_SERVER: server.url, NINJAIT_TOKEN: FAKE_TOKEN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(FAKE_DEVICE.deviceId);
    const file = join(dir, 'agent.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readConfig(file)).toMatchObject({ server: server.url, deviceId: FAKE_DEVICE.deviceId, deviceSecret: FAKE_DEVICE.deviceSecret });

    const s = await cli(['status', '--json', '--data-dir', dir]);
    expect(s.code).toBe(0);
    const report = JSON.parse(s.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ enrolled: true, deviceId: FAKE_DEVICE.deviceId, outbox: { bufferedRecords: 0, nextSeq: 1 } });
    expect(s.stdout).not.toContain(FAKE_DEVICE.deviceSecret);
  });

  it('enroll reports a refused token with exit 4 and an unreachable server with exit 1', async () => {
    const server = await startFakeServer();
    cleanups.push(() => server.close());
    const bad = await cli(['enroll', '--server', server.url, '--token', 'wrong-token-wrong-token', '--data-dir', dataDir()]);
    expect(bad.code).toBe(EXIT.refused);
    expect(bad.stderr).toContain('refused');
    const down = await cli(['enroll', '--server', 'http://127.0.0.1:1', '--token', FAKE_TOKEN, '--data-dir', dataDir()]);
    expect(down.code).toBe(EXIT.failure);
    expect(down.stderr).toContain('Cannot reach');
  });

  it('says plainly when the device waits for an admin\'s approval, and that it runs meanwhile', async () => {
    const server = await startFakeServer({ enrollStatus: 'pending_approval' });
    cleanups.push(() => server.close());
    const dir = dataDir();
    const r = await cli(['enroll', '--server', server.url, '--token', FAKE_TOKEN, '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Enrolled, waiting for an admin to approve this device: the server already knows this machine as another');
    expect(r.stdout).toContain('the agent connects and keeps its data buffered');
    expect(r.stdout).toContain(`ninjait-agent run --data-dir ${dir}`);
    expect(readConfig(join(dir, 'agent.json'))).toMatchObject({ deviceId: FAKE_DEVICE.deviceId });
  });

  it('says why it cannot enroll: the cause of a failed connection, a server that is not NinjaIT', async () => {
    const down = await cli(['enroll', '--server', 'http://127.0.0.1:1', '--token', FAKE_TOKEN, '--data-dir', dataDir()]);
    expect(down.stderr).toMatch(/^Cannot reach the server at http:\/\/127\.0\.0\.1:1: connection refused \(ECONNREFUSED 127\.0\.0\.1:1\)/);
    expect(down.stderr).not.toContain('fetch failed');

    const other = await listen((req, res) => {
      if (req.url?.startsWith('/html')) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>router login</title>');
      res.writeHead(404).end();
    });
    const html = await cli(['enroll', '--server', `${other}/html`, '--token', FAKE_TOKEN, '--data-dir', dataDir()]);
    expect(html.code).toBe(EXIT.failure);
    expect(html.stderr).toContain(`Not a NinjaIT server at ${other}/html: ${other} answered ${other}/html/trpc/agent.enroll with HTTP 200 and "text/html", not the NinjaIT API`);
    const empty = await cli(['enroll', '--server', other, '--token', FAKE_TOKEN, '--data-dir', dataDir()]);
    expect(empty.stderr).toContain('with HTTP 404 and no content type, not the NinjaIT API');
    expect(empty.stderr).not.toMatch(/JSON/);
  });

  it('refuses plain http:// beyond loopback on enroll and run, unless --insecure or NINJAIT_INSECURE=1', async () => {
    const enroll = await cli(['enroll', '--server', 'http://192.0.2.1:3000', '--token', FAKE_TOKEN, '--data-dir', dataDir()]);
    expect(enroll.code).toBe(EXIT.usage);
    expect(enroll.stderr).toMatch(/refusing plain http:\/\/ to http:\/\/192\.0\.2\.1:3000.*--insecure/s);

    const server = await startFakeServer();
    cleanups.push(() => server.close());
    const dir = dataDir();
    expect((await cli(['enroll', '--server', server.url, '--token', FAKE_TOKEN, '--data-dir', dir])).code).toBe(0);
    // The same config pointed at an address beyond this machine: run refuses it, --insecure allows it.
    const config = readConfig(join(dir, 'agent.json'))!;
    writeConfig(join(dir, 'agent.json'), { ...config, server: 'http://192.0.2.1:9' });
    const run = await cli(['run', '--data-dir', dir]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('refusing plain http://');
    const abort = new AbortController();
    abort.abort();
    const allowed = await runCli(['run', '--data-dir', dir], { stdout: () => undefined, stderr: () => undefined, env: { LOG_LEVEL: 'silent', NINJAIT_INSECURE: '1' }, signal: abort.signal });
    expect(allowed).toBe(EXIT.ok);
  });

  // On a machine with an installed, enrolled agent, status rightly reports that one instead.
  it.skipIf(existsSync(resolvePaths().configFile))('status without --data-dir finds the quick start\'s agent, or says where it looked', async () => {
    const cwd = process.cwd();
    const root = dataDir();
    cleanups.push(() => process.chdir(cwd));
    process.chdir(root);
    const none = await cli(['status']);
    expect(none.code).toBe(EXIT.notEnrolled);
    expect(none.stdout).toContain(`Looked in:     ${resolvePaths().configDir}, ${join(root, 'data', 'agent')}`);
    expect(none.stdout).toContain('--data-dir DIR (or NINJAIT_DATA_DIR=DIR)');

    const server = await startFakeServer();
    cleanups.push(() => server.close());
    mkdirSync(join(root, 'data'));
    expect((await cli(['enroll', '--server', server.url, '--token', FAKE_TOKEN, '--data-dir', join(root, 'data', 'agent')])).code).toBe(0);
    const found = await cli(['status', '--json']);
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ enrolled: true, foundQuickStartAgent: true, dataDir: join(root, 'data', 'agent'), deviceId: FAKE_DEVICE.deviceId });
  });
});

/** A plain HTTP server that is not NinjaIT; closed after the test. */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
