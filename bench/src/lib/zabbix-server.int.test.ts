import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { floodTrappers } from './zabbix-load.ts';
import { startZabbixServer, zabbixServerUnavailable } from './zabbix-server.ts';
import { sendValues } from './zabbix-trapper.ts';

const DATABASE_URL = process.env.DATABASE_URL;
const unavailable = zabbixServerUnavailable(DATABASE_URL);
if (unavailable) console.warn(`zabbix-server.int.test: skipped: ${unavailable}`);

/** Loading the package's data.sql took 37 s on a loaded 2-core machine; the server's first start as long again. */
const STARTS_WITHIN_MS = 300_000;

describe.skipIf(unavailable !== null)('Zabbix server 6.0 as an ingest peer (Debian package, real server)', () => {
  it('takes trapper values for every simulated machine, writes each to history, and leaves nothing behind', async () => {
    const zabbix = await startZabbixServer(DATABASE_URL!, 3, 2);
    let stopped = false;
    try {
      const [host] = zabbix.hosts;
      // An item nobody created is refused, counted as failed: the answer is read, not assumed.
      const unknown = await sendValues(zabbix.port, [{ host: host!.name, key: 'no.such.item', value: '1', clock: 1, ns: 0 }]);
      expect(unknown).toEqual({ processed: 0, failed: 1 });
      const figures = await floodTrappers(zabbix, { senders: 2, valuesPerRequest: 250, loadMs: 1_500 });
      expect(figures.requestErrors).toBe(0);
      expect(figures.failed).toBe(0);
      expect(figures.processed).toBeGreaterThan(0);
      expect(figures.written).toBe(figures.processed);
      await zabbix.stop();
      stopped = true;
      expect(() => process.kill(-zabbix.pgid, 0)).toThrow();
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [new URL(zabbix.databaseUrl).pathname.slice(1)]);
      await admin.end();
      expect(rows).toEqual([]);
    } finally {
      if (!stopped) await zabbix.stop();
    }
  }, STARTS_WITHIN_MS);
});
