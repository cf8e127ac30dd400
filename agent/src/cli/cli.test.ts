import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../config/file.ts';
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
});
