import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, runCli as runAgentCli, readConfig, resolvePaths } from '@ninjait/agent';
import { memoryLogger } from '@ninjait/agent/testing';
import { createScratchDatabase } from '@ninjait/server/testing';
import { SERVER_CLI, freePort, runCli, startCli, waitFor, waitForHttp, type Proc } from '../support/processes.ts';
import { engineVariants } from './support.ts';

/**
 * What a real server process (`ninjait serve`) leaves on disk: DATA_DIR 0700 and nothing in it
 * another local account can read or change (PGlite's catalog and WAL, chdb's parts, the local
 * admin credential), after enrolling an agent and ingesting its data; and an install from before
 * this check (everything 0666/0777) brought to the same at the next start, without following a
 * link out of DATA_DIR.
 */

/** `fn`'s answer, or `gone` where the entry was removed meanwhile (ENOENT). */
function unlessRemoved<T>(fn: () => T, gone: T): T {
  try {
    return fn();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return gone;
    throw error;
  }
}

/**
 * Every entry under `dir`, `dir` included, never through a link (links themselves are left out).
 * The server is running while it is walked: chdb writes a part into a tmp_insert_* folder and
 * renames it, and merges parts away, so an entry listed may be gone by the time it is read.
 */
function entries(dir: string): string[] {
  const found = [dir];
  for (const entry of unlessRemoved(() => readdirSync(dir, { withFileTypes: true }), [])) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    found.push(...(entry.isDirectory() ? entries(path) : [path]));
  }
  return found;
}

/** Entries that another account could read, write or enter (one removed meanwhile cannot be). */
function openToOthers(dir: string): string[] {
  return entries(dir)
    .map((path) => ({ path, mode: unlessRemoved(() => lstatSync(path).mode & 0o777, 0) }))
    .filter(({ mode }) => (mode & 0o077) !== 0)
    .map(({ path, mode }) => `${path.slice(dir.length) || '.'} ${mode.toString(8)}`);
}

/** Opens everything up, as PGlite did before: files 0666, folders 0777. */
function openUp(dir: string): void {
  for (const path of entries(dir)) chmodSync(path, lstatSync(path).isDirectory() ? 0o777 : 0o666);
}

describe.each(engineVariants())('server files are private to its account ($name)', (engines) => {
  let dir: string;
  let proc: Proc | undefined;
  let database: Awaited<ReturnType<typeof createScratchDatabase>> = null;
  let env: Record<string, string>;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-local-files-'));
    database = engines.relational === 'postgres' ? await createScratchDatabase() : null;
    const port = String(await freePort());
    url = `http://127.0.0.1:${port}`;
    env = {
      PORT: port, DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', AGENT_INTERVAL_MS: '1000',
      ...(database ? { DATABASE_URL: database.url } : {}), ...engines.env,
    };
  });
  // A failed assertion must not leave a server running.
  afterEach(async () => {
    await proc?.kill('SIGKILL');
    proc = undefined;
  });
  afterAll(async () => {
    await database?.drop();
    await engines.reset();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  async function serve() {
    await proc?.kill('SIGKILL');
    proc = startCli(SERVER_CLI, ['serve'], env);
    await waitForHttp(`${url}/readyz`, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${proc?.output()}`);
    });
  }
  async function stop() {
    proc!.child.kill('SIGTERM');
    const code = await proc!.exited;
    // The server's own words say why a shutdown failed; the exit code alone does not.
    expect(code, proc!.output().slice(-4000)).toBe(0);
    proc = undefined;
  }

  it('a fresh DATA_DIR stays private through enrollment and ingest', async () => {
    await serve();
    const flags = ['--server', url, '--data-dir', env.DATA_DIR!];
    await runCli(SERVER_CLI, ['org', 'create', 'Files', ...flags]);
    const token = (await runCli(SERVER_CLI, ['token', 'create', '--org', 'Files', ...flags])).trim();
    // A real agent (this process) enrolls and delivers: new rows, WAL, relcache files, chdb parts.
    const agentDir = join(dir, 'agent');
    const io = { stdout: () => undefined, stderr: () => undefined, env: { LOG_LEVEL: 'silent' }, signal: new AbortController().signal };
    expect(await runAgentCli(['enroll', '--server', url, '--token', token, '--data-dir', agentDir], io)).toBe(0);
    const paths = resolvePaths({ dataDir: agentDir });
    const agent = runAgent({ config: readConfig(paths.configFile)!, outboxFile: paths.outboxFile, log: memoryLogger('silent').log });
    try {
      await waitFor('the device to report', async () => {
        const [device] = JSON.parse(await runCli(SERVER_CLI, ['devices', '--org', 'Files', '--json', ...flags])) as { latest: unknown }[];
        return device?.latest;
      }, 150_000, 500);
    } finally {
      await agent.stop();
    }
    expect(statSync(env.DATA_DIR!).mode & 0o777).toBe(0o700);
    expect(openToOthers(env.DATA_DIR!)).toEqual([]);
    expect(openToOthers(agentDir)).toEqual([]);
    await stop();
  }, 240_000);

  it('an install from before is made private at start, and links out of DATA_DIR are not followed', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'not-ours'), 'x');
    chmodSync(join(outside, 'not-ours'), 0o644);
    chmodSync(outside, 0o755);
    openUp(env.DATA_DIR!);
    symlinkSync(join(outside, 'not-ours'), join(env.DATA_DIR!, 'link-to-file'));
    symlinkSync(outside, join(env.DATA_DIR!, 'link-to-folder'));
    expect(openToOthers(env.DATA_DIR!).length).toBeGreaterThan(10);

    await serve();
    expect(openToOthers(env.DATA_DIR!)).toEqual([]);
    expect(proc!.output()).toContain('DATA_DIR had files other local accounts could read or change');
    expect([statSync(outside).mode & 0o777, statSync(join(outside, 'not-ours')).mode & 0o777]).toEqual([0o755, 0o644]);
    await stop();
  }, 240_000);
});
