import { resolve } from 'node:path';
import { REPO_ROOT, freePort, startCli, waitFor, waitForChild, type Proc } from './processes.ts';

const CHDB_HTTP = resolve(REPO_ROOT, 'test/support/chdb-http.ts');

/** A ClickHouse (chdb behind its HTTP front, see chdb-http.ts) in its own process, on a free port, that can be killed and restarted. */
export interface ClickhouseProcess {
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** Starts ClickHouse 26.x (chdb) behind the HTTP interface `@clickhouse/client` speaks, on `dir`. */
export async function startClickhouseFront(dir: string): Promise<ClickhouseProcess> {
  const port = await freePort();
  let proc: Proc | null = null;
  const ch: ClickhouseProcess = {
    url: `http://127.0.0.1:${port}`,
    async kill() {
      await proc?.kill('SIGKILL');
    },
    async start() {
      const started = startCli(CHDB_HTTP, [dir, String(port)]);
      proc = started;
      await waitForChild(started.child, 'the ClickHouse front (test/support/chdb-http.ts)', (failed) =>
        waitFor('the ClickHouse front to listen', async () => started.output().includes('listening'), 60_000, 100, failed))
        .catch((error: Error) => {
          throw new Error(`${error.message}\n${started.output()}`);
        });
    },
  };
  await ch.start();
  return ch;
}
