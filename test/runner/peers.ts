import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable, privateStoresUnavailable, victoriaMetricsUnavailable } from '../support/executables.ts';
import type { Cleanup } from './cleanup.ts';
import { CHROMIUM, hasClickhouseServer } from './debian.ts';
import { capture, freePort, portFree, say, stopPid } from './processes.ts';

/**
 * Test peers: programs one adapter's tests talk to (Debian's ClickHouse for the HTTP client,
 * VictoriaMetrics for the InfluxDB line protocol), started on free ports under the run's temporary
 * folder with .ci/start-*.sh and stopped at the end. Their URLs go in *_TEST_URL, never in the
 * server's own CLICKHOUSE_URL / INFLUX_URL, so every other test keeps the embedded engines.
 */

export interface PeersReport {
  env: Record<string, string>;
  lines: string[];
}

/** start-clickhouse.sh also binds HTTP+777 (native) and HTTP+786 (interserver): all three must be free. */
async function clickhousePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const http = await freePort();
    if (http + 786 < 65_536 && (await portFree(http + 777)) && (await portFree(http + 786))) return http;
  }
  throw new Error('no free port for ClickHouse');
}

async function startClickhouse(root: string, cleanup: Cleanup, tmp: string): Promise<{ env: Record<string, string>; line: string }> {
  if (process.env.CLICKHOUSE_TEST_URL) return { env: {}, line: 'ClickHouse: CLICKHOUSE_TEST_URL from the environment' };
  const skips = 'the @clickhouse/client adapter test skips';
  if (!hasClickhouseServer()) return { env: {}, line: `ClickHouse: clickhouse-server is not installed: ${skips}` };
  if (!findExecutable('curl')) return { env: {}, line: `ClickHouse: curl is not installed (the start script needs it): ${skips}` };
  const dir = join(tmp, 'clickhouse');
  const port = await clickhousePort();
  const started = await capture('bash', [join(root, '.ci/start-clickhouse.sh'), dir, String(port)], { cwd: root, timeoutMs: 120_000 });
  const pidFile = join(dir, 'clickhouse.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) cleanup.add(`stop ClickHouse (pid ${pid})`, () => stopPid(pid, 20_000));
  }
  const url = started.stdout.trim().split('\n').at(-1) ?? '';
  if (started.code !== 0 || !url.startsWith('http://')) {
    return { env: {}, line: `ClickHouse: did not start (${started.stderr.trim().split('\n').at(-1) ?? started.code}; logs in ${dir}/log): ${skips}` };
  }
  return { env: { CLICKHOUSE_TEST_URL: url }, line: `ClickHouse: ${url} (Debian clickhouse-server)` };
}

async function startVictoriaMetrics(root: string, cleanup: Cleanup, tmp: string): Promise<{ env: Record<string, string>; line: string }> {
  if (process.env.INFLUX_TEST_URL) return { env: {}, line: 'VictoriaMetrics: INFLUX_TEST_URL from the environment' };
  const skips = 'the Influx adapter write tests and the Influx part of drain-fuzz skip';
  const unavailable = victoriaMetricsUnavailable();
  if (unavailable) return { env: {}, line: `VictoriaMetrics: ${unavailable}: ${skips}, and the fault suite runs without its outage` };
  if (!findExecutable('curl')) return { env: {}, line: `VictoriaMetrics: curl is not installed (the start script needs it): ${skips}` };
  const address = `127.0.0.1:${await freePort()}`;
  const started = await capture('bash', [join(root, '.ci/start-victoriametrics.sh'), join(tmp, 'victoriametrics')], {
    cwd: root, timeoutMs: 60_000, env: { ...process.env, VM_LISTEN_ADDR: address },
  });
  const pid = Number(started.stdout.trim().split('\n').at(-1));
  if (started.code !== 0 || !Number.isInteger(pid) || pid <= 0) {
    return { env: {}, line: `VictoriaMetrics: did not start (${started.stderr.trim().split('\n').at(-1) ?? started.code}): ${skips}` };
  }
  cleanup.add(`stop VictoriaMetrics (pid ${pid})`, () => stopPid(pid));
  return { env: { INFLUX_TEST_URL: `http://${address}` }, line: `VictoriaMetrics: http://${address} (InfluxDB line-protocol peer)` };
}

/** Starts the peers this machine has and says, for each one it lacks, which tests skip. */
export async function startPeers(root: string, cleanup: Cleanup, tmp: string): Promise<PeersReport> {
  const results = [await startClickhouse(root, cleanup, tmp), await startVictoriaMetrics(root, cleanup, tmp)];
  const lines = results.map((result) => result.line);
  lines.push(existsSync(CHROMIUM) ? `Chromium: ${CHROMIUM}` : `Chromium: ${CHROMIUM} is missing: the console tests in a real browser (test/web) skip`);
  const stores = privateStoresUnavailable();
  lines.push(stores ? `Fault suite: ${stores}: every fault file skips` : 'Fault suite: private PostgreSQL and Redis can start');
  for (const line of lines) say(line);
  return { env: Object.assign({}, ...results.map((result) => result.env)) as Record<string, string>, lines };
}
