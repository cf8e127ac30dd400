import { lstatSync, readdirSync } from 'node:fs';
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
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
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
    // Server and local agent keep everything to this account: databases, credentials, the outbox.
    expect(openToOthers(env.DATA_DIR)).toEqual([]);

    proc.child.kill('SIGINT');
    expect(await proc.exited).toBe(0);
    const agents = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((line) => line.includes(join(dir, 'data', 'agent')));
    expect(agents).toEqual([]);
  }, 240_000);

  it('stops the local agent when the server process is killed -9, instead of leaving an orphan', async () => {
    const port = String(await freePort());
    const env = { PORT: port, DATA_DIR: join(dir, 'data'), DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'warn' };
    proc = startCli(SERVER_CLI, ['start'], env);
    const agentsRunning = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((line) => line.includes(join(dir, 'data', 'agent')) && line.includes(' run '));
    await waitFor('the local agent to start again', async () => agentsRunning().length > 0, 120_000);
    proc.child.kill('SIGKILL');
    await proc.exited;
    await waitFor('the orphaned local agent to stop by itself', async () => agentsRunning().length === 0, 15_000);
  }, 240_000);
});

/** Entries under `dir` (itself included, never through a link) another account could read, write or enter. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) return;
    if ((stats.mode & 0o077) !== 0) found.push(`${path} ${(stats.mode & 0o777).toString(8)}`);
    if (stats.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return found;
}
