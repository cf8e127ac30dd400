import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli/cli.ts';
import { EXIT } from './cli/io.ts';
import { FAKE_TOKEN, startFakeServer } from './testing/fake-server.ts';
import { tempDir } from './testing/temp.ts';

/**
 * The agent's folder holds its device secret, its buffered data and what it ran: nothing in it
 * may be readable or writable by another local account, however the process's umask is set
 * (the test runner's is 022) and whatever an older agent left behind.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every entry (the folder included, links excluded) another account could read, write or enter. */
function openToOthers(dir: string): string[] {
  return [dir, ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((entry) => join(dir, entry))]
    // Read while the agent runs: a journal listed may be gone by the time it is looked at.
    .flatMap((path) => {
      try {
        return [{ path, stats: lstatSync(path) }];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    })
    .filter(({ stats }) => !stats.isSymbolicLink() && (stats.mode & 0o077) !== 0)
    .map(({ path, stats }) => `${path.slice(dir.length) || '.'} ${(stats.mode & 0o777).toString(8)}`);
}

/**
 * `ninjait-agent run` in this process until `done()` holds (at most `maxMs`), stopped as SIGTERM
 * would. Not a fixed time: in a loaded run the agent's start and first push took longer than 1.5 s.
 */
async function runUntil(dataDir: string, done: () => boolean, maxMs = 30_000): Promise<number> {
  const abort = new AbortController();
  const running = runCli(['run', '--data-dir', dataDir], { stdout: () => undefined, stderr: () => undefined, env: { LOG_LEVEL: 'silent' }, signal: abort.signal });
  for (const until = Date.now() + maxMs; !done() && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  return running;
}

describe('the agent\'s files', () => {
  it('are private after enroll and run, and an older agent\'s wider files are narrowed at start', async () => {
    const server = await startFakeServer({ intervalMs: 1_000 });
    cleanups.push(() => server.close());
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const dataDir = join(tmp.dir, 'agent');
    const io = { stdout: () => undefined, stderr: () => undefined, env: { LOG_LEVEL: 'silent' }, signal: new AbortController().signal };
    expect(await runCli(['enroll', '--server', server.url, '--token', FAKE_TOKEN, '--data-dir', dataDir], io)).toBe(EXIT.ok);
    expect(await runUntil(dataDir, () => server.logged.size > 0)).toBe(EXIT.ok);
    expect(server.logged.size).toBeGreaterThan(0);
    const names = readdirSync(dataDir);
    expect(names).toEqual(expect.arrayContaining(['agent.json', 'outbox.db', 'commands.db']));
    expect(openToOthers(dataDir)).toEqual([]);

    // As an agent from before this fix left them: databases 0644, the folder 0755.
    for (const name of readdirSync(dataDir)) chmodSync(join(dataDir, name), name === 'agent.json' ? 0o644 : 0o666);
    chmodSync(dataDir, 0o755);
    expect(openToOthers(dataDir).length).toBeGreaterThan(2);
    expect(await runUntil(dataDir, () => openToOthers(dataDir).length === 0)).toBe(EXIT.ok);
    expect(openToOthers(dataDir)).toEqual([]);
  }, 90_000);
});
