import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createChdbStore } from './chdb-store.ts';
import { startChdbProcess } from './chdb-process.ts';
import { processGone, until } from '../../../../test-support/command-fixtures.ts';

/** The embedded analytics store's chdb runs in a child process: what the server relies on from it. */
describe('chdb in its own process', () => {
  const dirs: string[] = [];
  const folder = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ninjait-chdb-process-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('answers from another process, and that process ends when the store closes', async () => {
    const host = startChdbProcess(join(await folder(), 'chdb'));
    expect(host.pid()).toBeNull();
    expect(await host.call({ kind: 'query', sql: 'SELECT 1 AS one', params: null, format: 'JSONEachRow' })).toBe('{"one":1}\n');
    const pid = host.pid()!;
    expect(pid).not.toBe(process.pid);
    expect(await processGone(pid)).toBe(false);
    await host.close();
    expect(await processGone(pid)).toBe(true);
    await expect(host.call({ kind: 'query', sql: 'SELECT 1', params: null, format: 'JSONEachRow' })).rejects.toThrow(/closed/);
  });

  it('passes ClickHouse\'s errors and bound parameters through', async () => {
    const store = createChdbStore(join(await folder(), 'chdb'));
    try {
      expect(await store.query('SELECT {n:UInt32} + 1 AS n', { n: 41 })).toEqual([{ n: 42 }]);
      await expect(store.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    } finally {
      await store.close();
    }
  });

  it('starts again after its process died, with the data it had written', async () => {
    const dir = join(await folder(), 'chdb');
    const host = startChdbProcess(dir);
    const query = (sql: string) => host.call({ kind: 'query', sql, params: null, format: 'JSONEachRow' });
    try {
      await query('CREATE TABLE kept (n UInt32) ENGINE = MergeTree ORDER BY n');
      await host.call({ kind: 'insert', table: 'kept', columns: ['n'], values: '[1]\n[2]', format: 'JSONCompactEachRow', settings: {} });
      const first = host.pid()!;
      const slow = query('SELECT sleepEachRow(1) FROM numbers(3)');
      process.kill(first, 'SIGKILL');
      // The call it was running fails and says why; the next one starts a new process.
      await expect(slow).rejects.toThrow(/ended \(SIGKILL\)/);
      expect(await query('SELECT sum(n) AS total FROM kept')).toBe('{"total":3}\n');
      expect(host.pid()).not.toBe(first);
    } finally {
      await host.close();
    }
  });

  it('ends with a server killed with -9, and a new server opens the same folder at once', async () => {
    const dir = join(await folder(), 'chdb');
    // A stand-in for the server: opens the store, writes, prints its chdb process id, then waits to be killed.
    const script = `
      import { startChdbProcess } from ${JSON.stringify(new URL('./chdb-process.ts', import.meta.url).href)};
      const host = startChdbProcess(${JSON.stringify(dir)});
      await host.call({ kind: 'query', sql: 'CREATE TABLE t (n UInt32) ENGINE = MergeTree ORDER BY n', params: null, format: 'JSONEachRow' });
      await host.call({ kind: 'insert', table: 't', columns: ['n'], values: '[7]', format: 'JSONCompactEachRow', settings: {} });
      await host.call({ kind: 'query', sql: 'SELECT 1', params: null, format: 'JSONEachRow' });
      console.log(host.pid());
      setInterval(() => host.call({ kind: 'query', sql: 'SELECT 1', params: null, format: 'JSONEachRow' }), 20);
    `;
    const server = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const hostPid = await new Promise<number>((resolve, reject) => {
      server.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      server.once('exit', (code) => reject(new Error(`the stand-in server exited with ${code}`)));
    });
    expect(await processGone(hostPid)).toBe(false);
    server.kill('SIGKILL');
    const store = createChdbStore(dir);
    try {
      // Opened while the orphan may still hold the folder: the new process waits it out.
      expect(await store.query('SELECT n FROM t')).toEqual([{ n: 7 }]);
      // The killed server's chdb process ends too.
      await until(() => processGone(hostPid), 15_000);
    } finally {
      await store.close();
    }
  });
});
