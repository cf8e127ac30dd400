import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, waitFor } from './processes.ts';

const run = promisify(execFile);

/**
 * Private engines for fault tests: the machine's shared PostgreSQL and Redis serve other tests
 * and people, so tests that stop and restart a store start their own on a free port.
 */

function pgBin(name: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort();
  const version = versions.at(-1);
  if (!version) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${version}/bin/${name}`;
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
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((done) => child!.once('exit', done));
      child.kill('SIGKILL');
      await exited;
    },
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
        stdio: 'ignore',
      });
      await waitFor('redis to answer', async () => (await run('redis-cli', ['-p', String(port), 'ping'])).stdout.trim() === 'PONG', 15_000, 100);
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
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((done) => child!.once('exit', done));
      child.kill(signal);
      await exited;
    },
    async start() {
      child = spawn('victoria-metrics', ['-storageDataPath', dir, '-httpListenAddr', `127.0.0.1:${port}`,
        '-search.latencyOffset=0', '-dedup.minScrapeInterval=1ms'], { stdio: 'ignore' });
      await waitFor('victoria-metrics to answer', async () => (await fetch(`${url}/health`)).ok, 20_000, 100);
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
