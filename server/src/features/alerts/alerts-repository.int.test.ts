import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrate, openRelationalStore, typed, type RelationalStore } from '../../stores/relational/index.ts';
import { loadStates, saveStates, stateKey, type StoredState } from './alerts-repository.ts';

// The evaluator's memory is what makes a replayed batch (a crash after the commit, before the
// drainer's cursor moved) run no transition twice: a state is stored only over an older log row.
describe.each(relationalEngines())('the evaluator memory on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;
  let ruleId: string;
  const deviceId = '00000000-0000-4000-8000-000000000001';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-alert-states-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
    const organization = await typed(db).insertInto('organizations').values({ name: 'states' }).returning('id').executeTakeFirstOrThrow();
    const rule = await typed(db).insertInto('alertRules')
      .values({ organizationId: organization.id, name: 'offline', condition: JSON.stringify({ kind: 'offline', forSec: 60 }) })
      .returning('id').executeTakeFirstOrThrow();
    ruleId = rule.id;
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const state = (subject: string, lastLogId: number, fields: Partial<StoredState> = {}): StoredState => ({
    ruleId, deviceId, subject, firing: false, lastCounter: null, breachingSinceMs: null, lastAtMs: null, lastLogId, ...fields,
  });

  it('stores a state over an older log row only, and reads back what it stored', async () => {
    const first = state('disk C:', 5, { firing: true, breachingSinceMs: 1_700_000_000_123, lastCounter: 2.5, lastAtMs: 1_700_000_001_000 });
    expect(await saveStates(db, [first])).toEqual(new Set([stateKey(ruleId, deviceId, 'disk C:')]));

    // The same log row again is a replay: nothing is stored, so its transitions do not run again.
    expect(await saveStates(db, [state('disk C:', 5)])).toEqual(new Set());
    expect(await saveStates(db, [state('disk C:', 4)])).toEqual(new Set());
    expect((await loadStates(db, [ruleId], [deviceId])).get(stateKey(ruleId, deviceId, 'disk C:'))).toEqual(first);

    const later = state('disk C:', 6);
    expect(await saveStates(db, [later])).toEqual(new Set([stateKey(ruleId, deviceId, 'disk C:')]));
    expect((await loadStates(db, [ruleId], [deviceId])).get(stateKey(ruleId, deviceId, 'disk C:'))).toEqual(later);
  });

  it('stores a batch larger than one statement takes', async () => {
    const many = Array.from({ length: 5_001 }, (_, i) => state(`subject ${i}`, 1));
    const stored = await saveStates(db, many);
    expect(stored.size).toBe(5_001);
    expect((await loadStates(db, [ruleId], [deviceId])).size).toBe(5_002);
  });
});
