import { machineShape, makeSample } from '../fleet/sample.ts';
import { waitFor } from './progress.ts';
import { sampleValues } from './sample-values.ts';
import { Histogram, round } from './stats.ts';
import { sendValues, type TrapperValue } from './zabbix-trapper.ts';
import { startZabbixServer, type RunningZabbixServer } from './zabbix-server.ts';

/** zabbix_sender's own limit: it sends at most 250 values per connection. */
export const ZABBIX_SENDER_VALUES_PER_REQUEST = 250;
/** Written is final once `history` has every accepted value, or has not grown for this long. */
const HISTORY_STILL_MS = 15_000;
const WRITTEN_WITHIN_MS = 10 * 60_000;

export interface TrapperLoad {
  senders: number;
  valuesPerRequest: number;
  loadMs: number;
}

/**
 * `senders` concurrent senders, each one request in flight on its own connection, send whole
 * samples of their share of the hosts back to back for `loadMs` (at most `valuesPerRequest` values
 * a request). Accepted = values the trappers answered as processed; written = rows that reached
 * the `history` table, counted until every accepted value is there (or the count stops growing).
 */
export async function floodTrappers(zabbix: RunningZabbixServer, load: TrapperLoad) {
  const rowsBefore = await zabbix.historyRows();
  const shapes = zabbix.hosts.map((host) => machineShape(host.index));
  const tally = { requests: 0, requestErrors: 0, processed: 0, failed: 0 };
  const latency = new Histogram();
  // Unique within the run, so no two values of one item share (clock, ns), the history table's key.
  let ns = 0;
  let seq = 0;
  const started = performance.now();
  const endsAt = started + load.loadMs;
  /** Sender `sender`'s next request: the next samples of its hosts (every `senders`-th), whole, up to the value limit. */
  const nextRequest = (cursor: { at: number }): TrapperValue[] => {
    const values: TrapperValue[] = [];
    for (;;) {
      const host = zabbix.hosts[cursor.at % zabbix.hosts.length]!;
      const sample = sampleValues(makeSample(shapes[cursor.at % shapes.length]!, seq + 1, seq + 1));
      if (values.length > 0 && values.length + sample.length > load.valuesPerRequest) return values;
      seq++;
      cursor.at += load.senders;
      const clock = Math.floor(Date.now() / 1000);
      for (const { key, value } of sample) values.push({ host: host.name, key, value: String(value), clock, ns: ns++ % 1e9 });
    }
  };
  await Promise.all(Array.from({ length: load.senders }, async (_, sender) => {
    const cursor = { at: sender };
    while (performance.now() < endsAt) {
      const values = nextRequest(cursor);
      const sentAt = performance.now();
      const answer = await sendValues(zabbix.port, values).catch(() => null);
      latency.record(performance.now() - sentAt);
      tally.requests++;
      if (!answer) tally.requestErrors++;
      else {
        tally.processed += answer.processed;
        tally.failed += answer.failed;
      }
    }
  }));
  const loadEnded = performance.now();
  let rows = rowsBefore;
  let lastWriteAt = loadEnded;
  await waitFor('Zabbix history syncers to write every accepted value', async () => {
    const now = await zabbix.historyRows();
    if (now > rows) lastWriteAt = performance.now();
    rows = now;
    return rows - rowsBefore >= tally.processed || performance.now() - lastWriteAt > HISTORY_STILL_MS;
  }, WRITTEN_WITHIN_MS, 500);
  const loadSec = (loadEnded - started) / 1000;
  const written = rows - rowsBefore;
  // Until the last row seen arrive (within a poll), not until the count was seen standing still.
  const writeTailSec = (lastWriteAt - loadEnded) / 1000;
  return {
    ...load, trappers: zabbix.trappers, hosts: zabbix.hosts.length, loadSec: round(loadSec, 1), ...tally,
    acceptedPerSec: round(tally.processed / loadSec, 0),
    written, writeTailSec: round(writeTailSec, 2),
    // As the ingest's drained/s: the values sent in the load over the time until they were also written.
    writtenPerSec: round(written / (loadSec + writeTailSec), 0),
    requestLatency: latency.summary(),
  };
}

export type TrapperFigures = Awaited<ReturnType<typeof floodTrappers>>;

/** Zabbix server for `machines` simulated machines on a scratch database of `baseUrl`'s PostgreSQL, flooded by `load`, then stopped and removed. */
export async function measureZabbixServerIngest(baseUrl: string, machines: number, load: TrapperLoad): Promise<TrapperFigures> {
  const zabbix = await startZabbixServer(baseUrl, machines, load.senders);
  try {
    return await floodTrappers(zabbix, load);
  } finally {
    await zabbix.stop();
  }
}
