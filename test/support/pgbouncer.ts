import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor, waitForChild } from './processes.ts';

export interface Bouncer {
  /** The database's URL, through PgBouncer. */
  url: string;
  /** Server connections PgBouncer may open to the database (its pool). */
  poolSize: number;
  output(): string;
  stop(): Promise<void>;
}

const tcpOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });

/**
 * PgBouncer in transaction mode in front of one PostgreSQL database, on a free loopback port,
 * from a config in a temporary folder: every transaction may run on a different server
 * connection, so session state (session advisory locks, named prepared statements, SET, LISTEN)
 * breaks as it would in production. As root it drops to `postgres` (PgBouncer refuses root).
 */
export async function startPgbouncer(program: string, databaseUrl: string, poolSize = 3): Promise<Bouncer> {
  const target = new URL(databaseUrl);
  const database = decodeURIComponent(target.pathname.slice(1));
  const user = decodeURIComponent(target.username) || 'postgres';
  if (!/^\w+$/.test(database) || !/^\w+$/.test(user)) throw new Error(`unexpected database or user name in ${database}/${user}`);
  const dir = await mkdtemp(join(tmpdir(), 'ninjait-pgbouncer-'));
  // Readable by the postgres user PgBouncer switches to as root.
  await chmod(dir, 0o755);
  const port = await freePort();
  const password = decodeURIComponent(target.password);
  await writeFile(join(dir, 'userlist.txt'), `"${user}" "${password.replace(/"/g, '""')}"\n`, { mode: 0o644 });
  await writeFile(join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `${database} = host=${target.hostname} port=${target.port || '5432'} dbname=${database}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    // The test's PostgreSQL trusts loopback; PgBouncer still needs the user listed.
    `auth_type = ${password ? 'plain' : 'trust'}`,
    `auth_file = ${join(dir, 'userlist.txt')}`,
    'pool_mode = transaction',
    `default_pool_size = ${poolSize}`,
    'max_client_conn = 500',
    'server_reset_query =',
    // Hand each transaction the least recently used server connection, not the last one: a
    // client's consecutive transactions then land on different connections, so state kept in a
    // session (a lock taken in one statement and released in the next) breaks every time.
    'server_round_robin = 1',
    '',
  ].join('\n'), { mode: 0o644 });
  const asRoot = process.getuid?.() === 0;
  const child = spawn(program, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  try {
    await waitForChild(child, 'pgbouncer', (signal) => waitFor('pgbouncer to listen', () => tcpOpen(port), 20_000, 100, signal));
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), poolSize, output: () => output, stop };
}
