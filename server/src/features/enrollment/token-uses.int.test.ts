import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrate, openRelationalStore, typed, type RelationalStore, type SqlExecutor } from '../../stores/relational/index.ts';
import { createEnrollmentToken, revokeEnrollmentToken } from './enrollment-tokens.ts';
import { createTokenUses } from './token-uses.ts';

/**
 * A roll-out's enrollments take their token's uses together: takes that arrive while one statement
 * runs share the next, which counts what the token has left, and the rest are refused in order.
 */
describe.each(relationalEngines())('token uses on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;
  let organizationId: string;
  /** Statements the token uses sent (the executor counts them). */
  let statements = 0;
  const counting: SqlExecutor = { query: (text, params) => (statements++, db.query(text, params)) };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-token-uses-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
    ({ id: organizationId } = await typed(db).insertInto('organizations').values({ name: 'uses' }).returning('id').executeTakeFirstOrThrow());
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const tokenWith = (maxUses: number) => createEnrollmentToken(db, { organizationId, name: `max ${maxUses}`, expiresInSec: 600, maxUses, createdBy: null });
  const usesOf = async (id: string) => (await typed(db).selectFrom('enrollmentTokens').select('uses').where('id', '=', id).executeTakeFirstOrThrow()).uses;
  const settle = <T>(promises: Promise<T>[]) => Promise.allSettled(promises);

  it('takes a burst of uses in a few statements, grants what the token has and refuses the rest in order', async () => {
    const { token, record } = await tokenWith(150);
    const uses = createTokenUses(counting);
    statements = 0;
    const outcomes = await settle(Array.from({ length: 200 }, () => uses.take(token)));
    expect(outcomes.slice(0, 150).every((outcome) => outcome.status === 'fulfilled' && outcome.value.tokenId === record.id)).toBe(true);
    expect(outcomes.slice(150).map((outcome) => outcome.status === 'rejected' && (outcome.reason as { message: string }).message))
      .toEqual(Array(50).fill('Enrollment token has been used the maximum number of times'));
    expect(await usesOf(record.id)).toBe(150);
    // One lone take, then the 199 that waited behind it (at most 256 a statement), and one read saying why the rest were refused.
    expect(statements).toBe(3);
  });

  it('grants exactly what the token has to two servers taking its uses at once', async () => {
    const { token, record } = await tokenWith(100);
    // Two instances' statements race on the token's row: each counts only what it added.
    const [one, two] = [createTokenUses(db), createTokenUses(db)];
    const outcomes = await settle(Array.from({ length: 160 }, (_, i) => (i % 2 ? one : two).take(token)));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(100);
    expect(await usesOf(record.id)).toBe(100);
  });

  it('keeps tokens apart, gives uses back, and says why a bad token is refused', async () => {
    const [a, b] = await Promise.all([tokenWith(10), tokenWith(10)]);
    const uses = createTokenUses(db);
    const taken = await Promise.all([...Array.from({ length: 7 }, () => uses.take(a.token)), ...Array.from({ length: 4 }, () => uses.take(b.token))]);
    expect(taken.map((use) => use.tokenId)).toEqual([...Array(7).fill(a.record.id), ...Array(4).fill(b.record.id)]);
    expect([await usesOf(a.record.id), await usesOf(b.record.id)]).toEqual([7, 4]);
    await uses.giveBack(a.record.id);
    expect(await usesOf(a.record.id)).toBe(6);
    await revokeEnrollmentToken(db, organizationId, b.record.id);
    await expect(uses.take(b.token)).rejects.toThrow('Enrollment token has been revoked');
    await expect(uses.take('nit_not-a-token')).rejects.toThrow('Enrollment token is not valid');
    expect(await usesOf(b.record.id)).toBe(4);
  });
});
