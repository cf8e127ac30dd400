import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_CLI, freePort, runCli, startCli, waitFor, type Proc } from '../support/processes.ts';

/** `npm start` as a new user runs it: embedded stores, first-run owner, a local agent reporting, Ctrl-C stops all. */
describe('quick start (ninjait start)', () => {
  let dir: string;
  let proc: Proc | undefined;
  afterAll(async () => {
    await proc?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the first login, shows this machine reporting, and stops server and agent on Ctrl-C', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-quickstart-'));
    const port = String(await freePort());
    // No store URLs: the quick start must need no external service.
    const env = { PORT: port, DATA_DIR: join(dir, 'data'), DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'warn' };
    proc = startCli(SERVER_CLI, ['start'], env);
    const login = await waitFor('the first-run login', async () => proc!.output().match(/as (\S+@\S+) with password: (\S+)/), 120_000);
    expect(login[1]).toBe('owner@ninjait.local');
    const flags = ['--server', `http://127.0.0.1:${port}`, '--data-dir', env.DATA_DIR];
    const [org] = JSON.parse(await runCli(SERVER_CLI, ['org', 'list', '--json', ...flags])) as { name: string }[];
    const device = await waitFor('this machine to report', async () => {
      const devices = JSON.parse(await runCli(SERVER_CLI, ['devices', '--org', org!.name, '--json', ...flags])) as { status: string; latest: { memory: { totalBytes: number } } | null }[];
      return devices[0]?.latest ? devices[0] : null;
    }, 90_000);
    expect(device.status).toBe('online');
    expect(device.latest!.memory.totalBytes).toBeGreaterThan(0);

    proc.child.kill('SIGINT');
    expect(await proc.exited).toBe(0);
    const agents = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((line) => line.includes(join(dir, 'data', 'agent')));
    expect(agents).toEqual([]);
  }, 240_000);
});
