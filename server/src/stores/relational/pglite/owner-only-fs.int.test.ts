import { readdirSync, lstatSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgliteStore } from './pglite-store.ts';

/** Every entry under `dir` (links excluded) that another account could read, write or enter. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const stats = lstatSync(join(dir, entry));
    if (!stats.isSymbolicLink() && (stats.mode & 0o077) !== 0) found.push(`${entry} ${(stats.mode & 0o777).toString(8)}`);
  }
  return found;
}

describe('PGlite on disk', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Runs under the test runner's own umask (022 here): the narrowing must not depend on it.
  it('keeps initdb files, relations, WAL and relcache files owner-only, across a reopen', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-pglite-modes-'));
    const data = join(dir, 'pglite');
    const db = await createPgliteStore(data);
    await db.exec(`CREATE TABLE t (id int PRIMARY KEY, body text);
      INSERT INTO t SELECT g, repeat('x', 500) FROM generate_series(1, 5000) g;`);
    // New relation files (a rewrite) and a checkpoint: what a running server does all day.
    await db.exec('VACUUM FULL t');
    await db.exec('CHECKPOINT');
    await db.close();
    const again = await createPgliteStore(data);
    expect((await again.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]?.n).toBe(5000);
    await again.close();
    expect(lstatSync(data).mode & 0o777).toBe(0o700);
    expect(openToOthers(data)).toEqual([]);
  }, 60_000);
});
