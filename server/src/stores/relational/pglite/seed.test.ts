import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Migration } from '../migrations/index.ts';
import { readPgliteSeed, seedFitsMigrations, seedPgliteFolder, type HeldMigration } from './seed.ts';

const migration = (version: number, sql: string): Migration => ({ version, name: `m${version}`, sql });
const held = ({ version, sql }: Migration): HeldMigration => ({ version, sha256: createHash('sha256').update(sql).digest('hex') });

describe('whether the embedded database seed fits the code', () => {
  const code = [migration(1, 'CREATE TABLE a (id INT);\n'), migration(2, 'CREATE TABLE b (id INT);\n')];

  it('fits when it holds the code\'s migrations, all or the older ones (migrate() applies the rest), or none', () => {
    expect(seedFitsMigrations(code.map(held), code)).toBe(true);
    expect(seedFitsMigrations([held(code[0]!)], code)).toBe(true);
    expect(seedFitsMigrations([], code)).toBe(true);
  });

  it('does not fit when a migration it holds was edited since, or is unknown to the code', () => {
    expect(seedFitsMigrations([held(code[0]!), held(migration(2, 'CREATE TABLE b (id BIGINT);\n'))], code)).toBe(false);
    expect(seedFitsMigrations([...code.map(held), held(migration(3, 'CREATE TABLE c (id INT);\n'))], code)).toBe(false);
  });

  it('is neither copied nor read when it does not fit: the data folder stays empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ninjait-seed-stale-'));
    try {
      const seedDir = join(dir, 'seed');
      await mkdir(join(seedDir, 'cluster'), { recursive: true });
      await writeFile(join(seedDir, 'cluster', 'PG_VERSION'), '17\n');
      await writeFile(join(seedDir, 'pglite.tar.gz'), 'not read');
      await writeFile(join(seedDir, 'migrations.json'), JSON.stringify([held(migration(1, 'CREATE TABLE a (id BIGINT);\n'))]));
      const data = join(dir, 'pglite');
      await mkdir(data);
      expect(await seedPgliteFolder(data, seedDir, code)).toBe(false);
      expect(readdirSync(data)).toEqual([]);
      expect(await readPgliteSeed(seedDir, code)).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
