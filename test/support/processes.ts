import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SERVER_CLI = resolve(REPO_ROOT, 'server/src/cli/main.ts');
export const AGENT_CLI = resolve(REPO_ROOT, 'agent/src/cli/main.ts');

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
const STORE_VARIABLES = /^(DATABASE_URL|REDIS_URL|REDIS_KEY_PREFIX|CLICKHOUSE_.*|INFLUX_.*|MONGODB_.*|S3_.*)$/;
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !STORE_VARIABLES.test(name)));
}

/** A child process running one of our CLIs through tsx, with its output kept for failure reports. */
export interface Proc {
  child: ChildProcess;
  output(): string;
  stdout(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export function startCli(cli: string, args: string[], env: Record<string, string | undefined> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: REPO_ROOT,
    env: { ...inheritedEnv(), LOG_LEVEL: 'info', ...env },
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

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
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

/** Waits until an HTTP URL answers 200. */
export function waitForHttp(url: string, timeoutMs = 120_000): Promise<boolean> {
  return waitFor(`${url} to answer`, async () => (await fetch(url)).ok, timeoutMs);
}
