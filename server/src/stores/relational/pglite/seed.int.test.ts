import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteStore } from './pglite-store.ts';
import { pgliteSeedDir } from './seed.ts';

describe('a new embedded database and the build\'s seed', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-pglite-seed-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // The build makes the seed (npm ci, npm test): one missing here is a failure, not a skip.
  it('starts from a copy of the seed\'s cluster, its migrations recorded, the seed unchanged', async () => {
    const control = await readFile(join(pgliteSeedDir(), 'cluster', 'global', 'pg_control'));
    const db = await createPgliteStore(join(dir, 'seeded'));
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    await db.exec('CREATE TABLE written_after_the_copy (id int)');
    await db.exec('CHECKPOINT');
    await db.close();
    expect(rows[0]!.n).toBeGreaterThan(0);
    expect(await readFile(join(pgliteSeedDir(), 'cluster', 'global', 'pg_control'))).toEqual(control);
    expect(readdirSync(dir)).toEqual(['seeded']);
  }, 60_000);

  // A seed built by another PostgreSQL than this PGlite's (an upgrade without a rebuild).
  it('initializes the cluster when PGlite cannot use the seed\'s', async () => {
    const seedDir = join(dir, 'foreign-seed');
    await mkdir(join(seedDir, 'cluster', 'global'), { recursive: true });
    await writeFile(join(seedDir, 'cluster', 'PG_VERSION'), '99\n');
    await writeFile(join(seedDir, 'cluster', 'global', 'pg_control'), Buffer.alloc(8192));
    await writeFile(join(seedDir, 'migrations.json'), '[]\n');
    const data = join(dir, 'initialized');
    const db = await createPgliteStore(data, seedDir);
    const { rows } = await db.query<{ present: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
    await db.close();
    expect(rows).toEqual([{ present: false }]);
    expect((await readFile(join(data, 'PG_VERSION'), 'utf8')).trim()).not.toBe('99');
  }, 120_000);
});
