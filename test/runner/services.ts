import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { findExecutable } from '../support/executables.ts';
import type { Cleanup } from './cleanup.ts';
import { capture, say, stopPid, tcpOpen, until } from './processes.ts';

/**
 * The machine's shared services the suites use when they answer: PostgreSQL and Redis (the
 * second engine pair of every integration and security test) and NATS JetStream. Each one that
 * is installed but down is started the way this machine kind starts it, and stopped at the end.
 * A variable the caller exported is used as it is.
 */

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Environment for the tests, plus one line per service saying what happened. */
export interface ServicesReport {
  env: Record<string, string>;
  lines: string[];
}

/** Null when PostgreSQL at `url` runs a query, else why not. */
async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a Redis answers PING at host:port. */
function redisAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

/** Starts a server program in the background, its output in `logFile`; the cleanup stops it. */
function startBackground(command: string, args: string[], logFile: string, cleanup: Cleanup, what: string): number | null {
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    child.on('error', () => undefined);
    if (child.pid === undefined) return null;
    const pid = child.pid;
    child.unref();
    cleanup.add(`stop ${what} (pid ${pid})`, () => stopPid(pid));
    return pid;
  } finally {
    closeSync(log);
  }
}

async function preparePostgres(cleanup: Cleanup): Promise<{ env: Record<string, string>; line: string }> {
  if (process.env.DATABASE_URL) return { env: {}, line: 'PostgreSQL: DATABASE_URL from the environment' };
  let problem = await postgresProblem(DEFAULT_DATABASE_URL);
  const ctl = findExecutable('pg_ctlcluster');
  const versions = safeReaddir('/etc/postgresql');
  const version = versions.sort((a, b) => Number(a) - Number(b)).at(-1);
  if (problem && ctl && version) {
    say(`PostgreSQL ${version} is installed but does not answer (${problem}): starting it`);
    const started = await capture(ctl, ['--skip-systemctl-redirect', version, 'main', 'start'], { timeoutMs: 60_000 });
    if (started.code === 0) {
      cleanup.add(`stop PostgreSQL ${version}`, async () => {
        await capture(ctl, ['--skip-systemctl-redirect', version, 'main', 'stop', '-m', 'fast'], { timeoutMs: 60_000 });
      });
      await until(async () => (await postgresProblem(DEFAULT_DATABASE_URL)) === null, 30_000, 500);
    }
    problem = await postgresProblem(DEFAULT_DATABASE_URL);
  }
  if (!problem) return { env: { DATABASE_URL: DEFAULT_DATABASE_URL }, line: `PostgreSQL: ${DEFAULT_DATABASE_URL}` };
  return { env: {}, line: `PostgreSQL: not available (${problem.split('\n')[0]}): the PostgreSQL variants of the integration and security tests skip; PGlite runs them` };
}

async function prepareRedis(cleanup: Cleanup, tmp: string): Promise<{ env: Record<string, string>; line: string }> {
  if (process.env.REDIS_URL) return { env: {}, line: 'Redis: REDIS_URL from the environment' };
  let answers = await redisAnswers('127.0.0.1', 6379);
  const server = findExecutable('redis-server');
  if (!answers && server) {
    say('Redis is installed but does not answer on 127.0.0.1:6379: starting it (nothing kept on disk)');
    const dir = join(tmp, 'redis');
    mkdirSync(dir, { recursive: true });
    startBackground(server, ['--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir],
      join(dir, 'redis.log'), cleanup, 'Redis');
    answers = await until(() => redisAnswers('127.0.0.1', 6379), 15_000, 200);
  }
  if (answers) return { env: { REDIS_URL: DEFAULT_REDIS_URL }, line: `Redis: ${DEFAULT_REDIS_URL}` };
  return { env: {}, line: `Redis: not available (${server ? 'it did not answer after start' : 'redis-server is not installed'}): the Redis variants skip; the in-process cache runs them` };
}

async function prepareNats(cleanup: Cleanup, tmp: string): Promise<{ env: Record<string, string>; line: string }> {
  if (process.env.NATS_TEST_URL) return { env: {}, line: 'NATS: NATS_TEST_URL from the environment' };
  let open = await tcpOpen('127.0.0.1', 4222);
  const server = findExecutable('nats-server');
  if (!open && server) {
    say('NATS is installed but does not answer on 127.0.0.1:4222: starting it with JetStream');
    const dir = join(tmp, 'nats');
    mkdirSync(dir, { recursive: true });
    startBackground(server, ['-a', '127.0.0.1', '-p', '4222', '-js', '-sd', dir], join(dir, 'nats.log'), cleanup, 'NATS');
    open = await until(() => tcpOpen('127.0.0.1', 4222), 15_000, 200);
  }
  if (open) return { env: { NATS_TEST_URL: DEFAULT_NATS_URL }, line: `NATS: ${DEFAULT_NATS_URL}` };
  return { env: {}, line: `NATS: not available (${server ? 'it did not answer after start' : 'nats-server is not installed'})` };
}

/** Detects (and starts when installed but down) PostgreSQL, Redis and NATS; returns the variables for the tests. */
export async function prepareServices(cleanup: Cleanup, tmp: string): Promise<ServicesReport> {
  const results = [await preparePostgres(cleanup), await prepareRedis(cleanup, tmp), await prepareNats(cleanup, tmp)];
  return { env: Object.assign({}, ...results.map((result) => result.env)) as Record<string, string>, lines: results.map((result) => result.line) };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
