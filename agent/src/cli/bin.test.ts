import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FAKE_TOKEN, startFakeServer } from '../testing/fake-server.ts';
import { tempDir } from '../testing/temp.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/ninjait-agent.js');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Starts the real launcher from an unrelated cwd, as a service manager would. */
function agent(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp.dir, env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('bin/ninjait-agent.js', () => {
  // One test, processes overlapped where independent: each tsx start costs a second or more.
  it('shows help, enrolls, runs, reports status while running, and stops on SIGTERM', async () => {
    const server = await startFakeServer({ intervalMs: 1_000 });
    try {
      const dir = join(tmp.dir, 'data');
      const help = agent(['--help']);
      const enroll = agent(['enroll', '--server', server.url, '--token', FAKE_TOKEN, '--data-dir', dir]);
      expect(await help.exited).toBe(0);
      expect(help.out()).toContain('Usage: ninjait-agent <command>');
      expect(await enroll.exited).toBe(0);

      const run = agent(['run', '--data-dir', dir]);
      const end = Date.now() + 8_000;
      while (server.logged.size < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(server.logged.size).toBeGreaterThanOrEqual(2);

      const status = agent(['status', '--json', '--data-dir', dir]);
      expect(await status.exited).toBe(0);
      expect(JSON.parse(status.out())).toMatchObject({ enrolled: true, outbox: { droppedTotal: 0 } });

      const t0 = Date.now();
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      // ~2 s budget for a clean stop, plus slack for a loaded test machine.
      expect(Date.now() - t0).toBeLessThan(3_000);
      const logs = run.out().trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
      expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['agent starting', 'connected to server', 'agent stopped']));
    } finally {
      await server.close();
    }
  }, 20_000);
});
