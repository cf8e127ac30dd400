import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import pg from 'pg';
import { stopProcessGroup } from './agent-process.ts';
import { freeZabbixPort } from './peers.ts';
import { waitFor } from './progress.ts';
import { machineValueKeys } from './sample-values.ts';
import { scratchDir } from './scratch.ts';
import { scratchDatabase } from './stores.ts';
import { sendValues } from './zabbix-trapper.ts';

/**
 * Zabbix server 6.0 from Debian's package (`apt-get install zabbix-server-pgsql`), run as our
 * child on a scratch database of the PostgreSQL our server uses, with no frontend: the package's
 * schema and data loaded by hand, then one host per simulated machine with one trapper item
 * (float) per value its sample holds (lib/sample-values.ts), so it receives what our ingest does.
 */
export const ZABBIX_SERVER_BINARY = '/usr/sbin/zabbix_server';
const SCHEMA_DIR = '/usr/share/zabbix-server-pgsql';
/** Loaded in this order, as the package's README says: tables, the frontend's images, the default data. */
const SCHEMA_FILES = ['schema.sql.gz', 'images.sql.gz', 'data.sql.gz'];
/** items.type 2: a trapper item (values are sent to the server); value_type 0: numeric float. */
const TRAPPER = 2;
const FLOAT = 0;
/** From spawn to the first accepted value: the server loads the configuration of every template data.sql holds, slow on a loaded machine. */
const STARTED_WITHIN_MS = 120_000;

/** Why Zabbix server cannot be measured here, or null when it can. */
export function zabbixServerUnavailable(databaseUrl: string | undefined): string | null {
  if (!databaseUrl) return 'no PostgreSQL (DATABASE_URL): Zabbix server needs one';
  const missing = [ZABBIX_SERVER_BINARY, ...SCHEMA_FILES.map((file) => join(SCHEMA_DIR, file))].filter((path) => !existsSync(path));
  return missing.length > 0 ? `zabbix-server-pgsql is not installed (apt-get install zabbix-server-pgsql): no ${missing.join(', ')}` : null;
}

/** A started Zabbix server: its trapper port, the hosts it monitors (host name → item keys), its history. */
export interface RunningZabbixServer {
  port: number;
  pgid: number;
  /** Its scratch database, dropped by `stop`. */
  databaseUrl: string;
  hosts: { name: string; index: number; keys: string[] }[];
  trappers: number;
  /** Rows in `history` (float values written by its history syncers). */
  historyRows(): Promise<number>;
  stop(): Promise<void>;
}

const gunzipAsync = promisify(gunzip);

/** One simple-protocol query per file: a statement per round trip (psql -f) took 81 s for data.sql on a loaded machine, this 37 s. */
async function loadSchema(db: pg.Client): Promise<void> {
  for (const file of SCHEMA_FILES) await db.query((await gunzipAsync(await readFile(join(SCHEMA_DIR, file)))).toString());
}

/** Monitored hosts `ninjait-bench-<i>` with a float trapper item per value of machine i's sample; the default "Zabbix server" host (an agent nobody runs) disabled. */
async function addTrapperHosts(db: pg.Client, machines: number): Promise<RunningZabbixServer['hosts']> {
  const hosts = Array.from({ length: machines }, (_, index) => ({ name: `ninjait-bench-${index}`, index, keys: machineValueKeys(index) }));
  const { rows: [next] } = await db.query<{ hostid: string; itemid: string; hostgroupid: string }>(
    'SELECT (SELECT max(hostid) + 1 FROM hosts) AS hostid, (SELECT max(itemid) + 1 FROM items) AS itemid, (SELECT max(hostgroupid) + 1 FROM hosts_groups) AS hostgroupid');
  const hostIds = hosts.map((_, i) => String(BigInt(next!.hostid) + BigInt(i)));
  const itemHostIds = hosts.flatMap((host, i) => host.keys.map(() => hostIds[i]!));
  const itemKeys = hosts.flatMap((host) => host.keys);
  await db.query('BEGIN');
  await db.query("UPDATE hosts SET status = 1 WHERE host = 'Zabbix server' AND flags = 0");
  await db.query(`INSERT INTO hosts (hostid, host, name, name_upper, status)
    SELECT id, name, name, upper(name), 0 FROM unnest($1::bigint[], $2::text[]) AS h(id, name)`, [hostIds, hosts.map((host) => host.name)]);
  await db.query(`INSERT INTO hosts_groups (hostgroupid, hostid, groupid)
    SELECT $2::bigint + ord - 1, id, (SELECT groupid FROM hstgrp WHERE name = 'Linux servers') FROM unnest($1::bigint[]) WITH ORDINALITY AS h(id, ord)`, [hostIds, next!.hostgroupid]);
  await db.query(`INSERT INTO items (itemid, type, hostid, name, key_, name_upper, value_type, delay)
    SELECT $3::bigint + ord - 1, ${TRAPPER}, hostid, key, key, upper(key), ${FLOAT}, '0' FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS i(hostid, key, ord)`,
  [itemHostIds, itemKeys, next!.itemid]);
  // The server reads an item's runtime state with it (the frontend creates both rows).
  await db.query('INSERT INTO item_rtdata (itemid) SELECT itemid FROM items WHERE hostid = ANY($1::bigint[])', [hostIds]);
  await db.query('COMMIT');
  return hosts;
}

/** Foreground, logging to a file in `dir`; AllowRoot for CI's root; IPC sockets in `dir` so two runs never share them. */
async function writeConfig(dir: string, databaseUrl: string, port: number, trappers: number): Promise<string> {
  const url = new URL(databaseUrl);
  const config = join(dir, 'zabbix_server.conf');
  await writeFile(config, [
    `LogFile=${join(dir, 'zabbix_server.log')}`, `PidFile=${join(dir, 'zabbix_server.pid')}`, `SocketDir=${dir}`,
    `DBHost=${url.hostname}`, `DBPort=${url.port || 5432}`, `DBName=${url.pathname.slice(1)}`,
    `DBUser=${decodeURIComponent(url.username) || 'postgres'}`, ...(url.password ? [`DBPassword=${decodeURIComponent(url.password)}`] : []),
    'ListenIP=127.0.0.1', `ListenPort=${port}`, `StartTrappers=${trappers}`, 'CacheUpdateFrequency=1', 'AllowRoot=1', '',
  ].join('\n'));
  return config;
}

/** The log's last lines, for a start that failed. */
async function logTail(dir: string): Promise<string> {
  const log = await readFile(join(dir, 'zabbix_server.log'), 'utf8').catch(() => '');
  return log.trim().split('\n').slice(-8).join('\n');
}

/** Until one value of the first host is processed: its configuration is loaded and a trapper answers. */
async function untilTrapperAccepts(child: ChildProcess, dir: string, port: number, host: RunningZabbixServer['hosts'][number]): Promise<void> {
  let probes = 0;
  await waitFor('Zabbix server to accept trapper values', async () => {
    if (child.exitCode !== null) throw new Error(`zabbix_server exited with ${child.exitCode}:\n${await logTail(dir)}`);
    // An hour back, so no value of the load (now) shares a probe's (clock, ns), the history table's key.
    const clock = Math.floor(Date.now() / 1000) - 3600;
    const answer = await sendValues(port, [{ host: host.name, key: host.keys[0]!, value: '0', clock, ns: probes++ }]).catch(() => null);
    return answer?.processed === 1;
  }, STARTED_WITHIN_MS, 500);
}

/** Until the accepted probe is in `history`: its syncers write, and the load's count starts after it. */
async function untilProbeWritten(historyRows: () => Promise<number>): Promise<void> {
  await waitFor('Zabbix server to write the probe value', async () => (await historyRows()) > 0, STARTED_WITHIN_MS, 200);
}

/**
 * Creates the scratch database, starts `zabbix_server -f` in its own process group and waits until
 * its trappers take values for `machines` hosts. Whatever it started is removed if it fails,
 * and the process group is killed if the bench exits without stopping it.
 */
export async function startZabbixServer(baseUrl: string, machines: number, trappers: number): Promise<RunningZabbixServer> {
  const database = await scratchDatabase(baseUrl);
  const dir = await scratchDir('ninjait-bench-zabbix-');
  const db = new pg.Client({ connectionString: database.url });
  let child: ChildProcess | undefined;
  const killOnExit = () => {
    if (child?.pid) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  };
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child) await stopProcessGroup(child);
    await db.end().catch(() => undefined);
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await db.connect();
    await loadSchema(db);
    const hosts = await addTrapperHosts(db, machines);
    const port = await freeZabbixPort();
    const config = await writeConfig(dir, database.url, port, trappers);
    child = spawn(ZABBIX_SERVER_BINARY, ['-f', '-c', config], { stdio: 'ignore', detached: true });
    process.on('exit', killOnExit);
    const historyRows = async () => {
      const { rows } = await db.query<{ rows: string }>('SELECT count(*) AS rows FROM history');
      return Number(rows[0]!.rows);
    };
    await untilTrapperAccepts(child, dir, port, hosts[0]!);
    await untilProbeWritten(historyRows);
    return { port, pgid: child.pid!, databaseUrl: database.url, hosts, trappers, historyRows, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
