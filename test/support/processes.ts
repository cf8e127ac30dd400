import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The commands as installed: bins running the built product (server/dist, agent/dist), so what ships is what these tests run. */
export const SERVER_CLI = resolve(REPO_ROOT, 'server/bin/ninjait.js');
export const AGENT_CLI = resolve(REPO_ROOT, 'agent/bin/ninjait-agent.js');

let built = false;
/** Builds the server and the agent when their sources changed since their last build (checked once per test file). */
export function ensureBuilt(): void {
  if (built) return;
  const build = spawnSync(process.execPath, [resolve(REPO_ROOT, 'scripts/build.mjs'), '--if-stale', 'server', 'agent'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
  built = true;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

/**
 * Store URLs are never inherited: a child uses a shared PostgreSQL or Redis only when its test
 * passes one (a scratch database, a key prefix), so no test writes into the shared `test` database.
 */
const STORE_VARIABLES = /^(DATABASE_URL|REDIS_URL|REDIS_KEY_PREFIX|CLICKHOUSE_.*|INFLUX_.*|MONGODB_.*|S3_.*|INGEST_LOG_.*)$/;
export function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !STORE_VARIABLES.test(name)));
}

/** A child process running one of our CLIs (a bin, or a .ts file through tsx), with its output kept for failure reports. */
export interface Proc {
  child: ChildProcess;
  output(): string;
  stdout(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export function startCli(cli: string, args: string[], env: Record<string, string | undefined> = {}): Proc {
  if (!cli.endsWith('.ts')) ensureBuilt();
  const child = spawn(process.execPath, [...(cli.endsWith('.ts') ? ['--import', 'tsx'] : []), cli, ...args], {
    cwd: REPO_ROOT,
    // Tests run as root: no agent a test starts may restart the machine after a patch deployment.
    env: { ...inheritedEnv(), LOG_LEVEL: 'info', NINJAIT_ALLOW_REBOOT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((done) => child.once('exit', (code, signal) => done(code ?? signal ?? -1)));
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a CLI to completion and returns its stdout; throws with its output on a non-zero exit. */
export async function runCli(cli: string, args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const proc = startCli(cli, args, env);
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${cli.split('/').slice(-3).join('/')} ${args.join(' ')} exited ${code}:\n${proc.output()}`);
  return proc.stdout();
}

/**
 * Polls `check` until it returns a truthy value or the time runs out; an aborted `signal` stops
 * the polling at once with its reason (a process that died will never answer).
 */
export async function waitFor<T>(
  what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 250, signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw signal.reason;
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((done) => setTimeout(done, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

/**
 * Stops a running agent once its outbox has caught up (`buffered`, read while it runs, at most 1),
 * then at once, and returns how many records may still be in its outbox after the stop: the one
 * it may have had, a sample for each interval the stop took, and one taken as it began. A sample
 * taken as the agent stops, or a push whose ack the stop cuts off, rightly stays there; an agent
 * that had stopped sending would hold far more. (Stopped wherever they were, agents left one and
 * three records under npm test's load, where tests allowed none and two.)
 */
export async function stopAgentCaughtUp(
  agent: { kill(signal: NodeJS.Signals): Promise<unknown> }, buffered: () => number | Promise<number>, intervalMs: number,
): Promise<number> {
  await waitFor('the agent to catch up before it stops', async () => (await buffered()) <= 1, 60_000, 100);
  const stopping = Date.now();
  await agent.kill('SIGTERM');
  return 2 + Math.ceil((Date.now() - stopping) / intervalMs);
}

/**
 * Waits for a spawned program to answer, failing at once when it cannot start (`spawn … ENOENT`,
 * which would otherwise be an uncaught 'error' event) or exits first.
 */
export async function waitForChild(child: ChildProcess, what: string, ready: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const failed = new AbortController();
  const onError = (error: Error) => failed.abort(new Error(`${what} could not start: ${error.message}`));
  const onExit = (code: number | null, signal: NodeJS.Signals | null) => failed.abort(new Error(`${what} exited (${code ?? signal}) before it answered`));
  child.once('error', onError);
  child.once('exit', onExit);
  try {
    await Promise.race([ready(failed.signal), new Promise<never>((_, reject) => failed.signal.addEventListener('abort', () => reject(failed.signal.reason)))]);
  } finally {
    child.off('exit', onExit);
    // A later 'error' (a failed kill) must not crash the test process either.
    child.off('error', onError);
    child.on('error', () => undefined);
  }
}

/** Waits until an HTTP URL answers 200. */
export function waitForHttp(url: string, timeoutMs = 120_000): Promise<boolean> {
  return waitFor(`${url} to answer`, async () => (await fetch(url)).ok, timeoutMs);
}
