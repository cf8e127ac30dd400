import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openAnalyticsStore, type AnalyticsStore } from '@ninjait/server/stores/analytics';
import { startClickhouseFront } from '../support/clickhouse-front.ts';

/** The ClickHouse server the engine tests talk to over HTTP, with a database of their own. */
export interface ClickhouseTarget {
  store: AnalyticsStore;
  /** What it is, for messages: the URL's server or chdb behind its HTTP front. */
  label: string;
  close(): Promise<void>;
}

/**
 * CLICKHOUSE_URL (+ CLICKHOUSE_USER / CLICKHOUSE_PASSWORD) when set: a real server, where this
 * run creates and then drops a database of its own. Otherwise ClickHouse 26.x (chdb) behind the
 * HTTP interface `@clickhouse/client` speaks, in a process of its own on a folder under `dir`.
 */
export async function openClickhouseTarget(dir: string): Promise<ClickhouseTarget> {
  const { CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD } = process.env;
  const credentials = { username: CLICKHOUSE_USER, password: CLICKHOUSE_PASSWORD };
  if (CLICKHOUSE_URL) {
    const database = `ninjait_engines_${randomBytes(4).toString('hex')}`;
    const admin = openAnalyticsStore({ clickhouseUrl: CLICKHOUSE_URL, ...credentials, dataDir: dir });
    await admin.exec(`CREATE DATABASE ${database}`);
    const store = openAnalyticsStore({ clickhouseUrl: CLICKHOUSE_URL, ...credentials, database, dataDir: dir });
    return {
      store,
      label: `ClickHouse at CLICKHOUSE_URL, database ${database}`,
      async close() {
        await store.close();
        await admin.exec(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
        await admin.close();
      },
    };
  }
  const front = await startClickhouseFront(join(dir, 'chdb'));
  const store = openAnalyticsStore({ clickhouseUrl: front.url, dataDir: dir });
  return {
    store,
    label: 'chdb behind its HTTP interface (CLICKHOUSE_URL is not set)',
    async close() {
      await store.close();
      await front.kill();
    },
  };
}
