import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, waitFor, waitForChild } from './processes.ts';
import { findExecutable, postgresBinDir } from './executables.ts';

const run = promisify(execFile);

/**
 * Private engines for fault tests: the machine's shared PostgreSQL and Redis serve other tests
 * and people, so tests that stop and restart a store start their own on a free port.
 */

function pgBin(name: string): string {
  const dir = postgresBinDir();
  if (!dir) throw new Error('no PostgreSQL under /usr/lib/postgresql (see privateStoresUnavailable in executables.ts)');
  return join(dir, name);
}

/** Runs a PostgreSQL tool as the `postgres` user when we are root (initdb refuses root). */
async function asPostgres(tool: string, args: string[]): Promise<string> {
  const [cmd, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', pgBin(tool), ...args]] : [pgBin(tool), args];
  const { stdout } = await run(cmd as string, argv as string[], { timeout: 60_000 });
  return stdout;
}

export interface PrivatePostgres {
  port: number;
  /** postgres://…/<database> on this instance. */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  /** `immediate` is a crash (no checkpoint), `fast` a clean shutdown. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops the instance and removes nothing (the caller owns the folder). */
  destroy(): Promise<void>;
}

/** initdb + pg_ctl in `dir` (made postgres-owned), listening on 127.0.0.1:<free port>. */
export async function startPrivatePostgres(dir: string): Promise<PrivatePostgres> {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const instance: PrivatePostgres = {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: instance.url() });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      return instance.url(name);
    },
    async stop(mode = 'fast') {
      await asPostgres('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    },
    async start() {
      await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'postgres.log'), '-w', 'start']);
    },
    async destroy() {
      await instance.stop('immediate').catch(() => undefined);
    },
  };
  await instance.start();
  return instance;
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** SIGKILL: everything in memory is gone (no persistence, like a cache restart). */
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** `redis-server` as our child, nothing saved to disk. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const instance: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child!.once('exit', done));
      child.kill('SIGKILL');
      await exited;
    },
    async start() {
      child = spawn(findExecutable('redis-server') ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
        stdio: 'ignore',
      });
      const redisCli = findExecutable('redis-cli') ?? 'redis-cli';
      await waitForChild(child, 'redis-server', (failed) =>
        waitFor('redis to answer', async () => (await run(redisCli, ['-p', String(port), 'ping'])).stdout.trim() === 'PONG', 15_000, 100, failed));
    },
  };
  await instance.start();
  return instance;
}

export interface PrivateVictoriaMetrics {
  url: string;
  /** SIGKILL by default; SIGTERM is a clean stop (VictoriaMetrics flushes its in-memory buffer first). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  /** Points per device of one field series, from /api/v1/export (raw samples, duplicates included). */
  timestamps(deviceId: string, field?: string): Promise<number[]>;
}

/**
 * VictoriaMetrics as the Influx line-protocol peer. `-dedup.minScrapeInterval=1ms` gives it
 * InfluxDB's rule that a series has one point per timestamp (a replay overwrites, not adds).
 */
export async function startPrivateVictoriaMetrics(dir: string): Promise<PrivateVictoriaMetrics> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const instance: PrivateVictoriaMetrics = {
    url,
    async kill(signal = 'SIGKILL') {
      if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child!.once('exit', done));
      child.kill(signal);
      await exited;
    },
    async start() {
      child = spawn(findExecutable('victoria-metrics') ?? 'victoria-metrics', ['-storageDataPath', dir, '-httpListenAddr', `127.0.0.1:${port}`,
        '-search.latencyOffset=0', '-dedup.minScrapeInterval=1ms'], { stdio: 'ignore' });
      await waitForChild(child, 'victoria-metrics', (failed) =>
        waitFor('victoria-metrics to answer', async () => (await fetch(`${url}/health`)).ok, 20_000, 100, failed));
    },
    async timestamps(deviceId, field = 'cpu') {
      await fetch(`${url}/internal/force_flush`).catch(() => undefined);
      const match = `device_metrics_${field}{device_id="${deviceId}"}`;
      const response = await fetch(`${url}/api/v1/export?match[]=${encodeURIComponent(match)}&start=0`);
      const text = await response.text();
      return text.split('\n').filter(Boolean).flatMap((line) => (JSON.parse(line) as { timestamps: number[] }).timestamps);
    },
  };
  await instance.start();
  return instance;
}

export interface PrivateNats {
  port: number;
  url: string;
  /** Stops it (SIGKILL is a crash; JetStream recovers its store folder at the next start). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store folder. */
  start(): Promise<void>;
}

/** `nats-server -js` on 127.0.0.1:<free port> with its JetStream store in `dir`. */
export async function startPrivateNats(dir: string): Promise<PrivateNats> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  let child: ChildProcess | null = null;
  const instance: PrivateNats = {
    port,
    url: `nats://127.0.0.1:${port}`,
    async kill(signal = 'SIGTERM') {
      if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child!.once('exit', done));
      child.kill(signal);
      await exited;
    },
    async start() {
      child = spawn(findExecutable('nats-server') ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
      await waitForChild(child, 'nats-server', (failed) => waitFor('nats-server to accept connections', () => new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
        socket.once('error', () => resolve(false));
      }), 15_000, 100, failed));
    },
  };
  await instance.start();
  return instance;
}
