import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrations } from './migrations/index.ts';
import { migrate, openRelationalStore } from './index.ts';

describe.each(relationalEngines())('migrations on %s', (engine) => {
  it('apply once, survive a reopen, and create the seed tables with their indexes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ninjait-migrate-'));
    const database = engine === 'postgres' ? await createScratchDatabase() : null;
    const open = () => openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    try {
      let db = await open();
      expect(await migrate(db)).toEqual(migrations.map((m) => m.version));
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
});
