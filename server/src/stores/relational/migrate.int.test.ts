import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrations, type Migration } from './migrations/index.ts';
import { migrate, openRelationalStore, type RelationalStore } from './index.ts';

const allVersions = migrations.map((m) => m.version);

/** The versions a store has recorded; none before its first migrate(). */
async function recordedVersions(db: RelationalStore): Promise<number[]> {
  const table = await db.query<{ present: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
  if (!table.rows[0]?.present) return [];
  const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((row) => row.version);
}

describe.each(relationalEngines())('migrations on %s', (engine) => {
  it('apply once, survive a reopen, and create the seed tables with their indexes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ninjait-migrate-'));
    const database = engine === 'postgres' ? await createScratchDatabase(process.env.DATABASE_URL, 'ninjait_test', { empty: true }) : null;
    const open = () => openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    try {
      let db = await open();
      // A scratch PostgreSQL database is empty; an embedded one unpacked from the build's seed
      // already holds the migrations the seed was built with. Either way migrate() applies the rest.
      const before = await recordedVersions(db);
      expect(await migrate(db)).toEqual(allVersions.filter((version) => !before.includes(version)));
      expect(await recordedVersions(db)).toEqual(allVersions);
      await db.close();
      db = await open();
      expect(await migrate(db)).toEqual([]);
      const { rows } = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`);
      expect(rows.map((row) => row.table_name)).toEqual(expect.arrayContaining(
        ['organizations', 'users', 'devices', 'tickets', 'enrollment_tokens', 'device_credentials', 'ingest_log', 'drain_cursors']));
      const { rows: indexes } = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'devices_online_by_org_idx'`);
      expect(indexes[0]!.indexdef).toMatch(/WHERE \(\(status\)::text = 'online'::text\)/);
      const { rows: ip } = await db.query<{ t: string }>(`SELECT data_type AS t FROM information_schema.columns WHERE table_name = 'devices' AND column_name = 'ip_address'`);
      expect(ip[0]!.t).toBe('inet');
      await db.close();
    } finally {
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  // What a store made by an older build meets after an upgrade: the code has a migration its
  // database (or the seed it was unpacked from) does not.
  it('apply a migration newer than the database, and only that one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ninjait-migrate-'));
    const database = engine === 'postgres' ? await createScratchDatabase(process.env.DATABASE_URL, 'ninjait_test', { empty: true }) : null;
    const newer: Migration = { version: 9_001, name: 'newer-than-the-seed', sql: 'CREATE TABLE newer_than_the_seed (id INTEGER PRIMARY KEY);\n' };
    const db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    try {
      await migrate(db);
      expect(await migrate(db, [...migrations, newer])).toEqual([newer.version]);
      expect(await migrate(db, [...migrations, newer])).toEqual([]);
      expect(await recordedVersions(db)).toEqual([...allVersions, newer.version]);
      expect((await db.query(`SELECT to_regclass('newer_than_the_seed') IS NOT NULL AS present`)).rows).toEqual([{ present: true }]);
    } finally {
      await db.close();
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
