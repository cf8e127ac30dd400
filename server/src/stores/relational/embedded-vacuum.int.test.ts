import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrate, openRelationalStore } from './index.ts';
import { vacuumEmbedded } from './embedded-vacuum.ts';

describe.each(relationalEngines())('embedded vacuum on %s', (engine) => {
  it('vacuums and analyzes the hot tables on PGlite, and leaves PostgreSQL to autovacuum', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ninjait-vacuum-'));
    const database = engine === 'postgres' ? await createScratchDatabase() : null;
    const db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    try {
      await migrate(db);
      const pages = async () => (await db.query<{ pages: number }>(
        `SELECT relpages AS pages FROM pg_class WHERE relname = 'ingest_log'`)).rows[0]!.pages;
      const vacuumed = await vacuumEmbedded(db);
      expect(vacuumed).toBe(engine === 'pglite');
      if (!vacuumed) return;
      // ANALYZE records the table's size; a table never analyzed says 0 pages however big it is.
      await db.query(`INSERT INTO ingest_log (device_id, organization_id, seq, kind, collected_at, payload)
        SELECT gen_random_uuid(), gen_random_uuid(), g, 'sample', NOW(), '{"x":1}' FROM generate_series(1, 5000) g`);
      await vacuumEmbedded(db);
      expect(await pages()).toBeGreaterThan(0);
      const { rows: [stats] } = await db.query<{ vacuumed: boolean; analyzed: boolean }>(
        `SELECT last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE relname = 'ingest_log'`);
      expect(stats).toEqual({ vacuumed: true, analyzed: true });
    } finally {
      await db.close();
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
