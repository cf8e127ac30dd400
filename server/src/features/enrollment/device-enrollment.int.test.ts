import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { fakeInventory } from '../../../test-support/harness.ts';
import { migrate, openRelationalStore, typed, type RelationalStore } from '../../stores/relational/index.ts';
import { secretMatches } from '../../platform/secrets.ts';
import { createEventPublisher } from '../webhooks/publisher.ts';
import { createDeviceEnrollment, type DeviceEnrollment, type EnrollmentResult } from './device-enrollment.ts';
import { createEnrollmentToken } from './enrollment-tokens.ts';
import { deviceWithKey } from './repository.ts';

type Outcome = { ok: true; result: EnrollmentResult } | { ok: false; error: unknown };

/**
 * Enrollments of new machines arriving together share transactions (transaction-groups.ts): what
 * each agent gets, what the token counts and who is approved must be what one enrollment at a time
 * gave. The calls start at once, so all but the first few wait for a group.
 */
describe.each(relationalEngines())('enrollments arriving together on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;
  let organizationId: string;
  let enrollment: DeviceEnrollment;
  const events = createEventPublisher();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-enroll-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
    enrollment = createDeviceEnrollment(db, events);
    ({ id: organizationId } = await typed(db).insertInto('organizations').values({ name: 'roll-out' }).returning('id').executeTakeFirstOrThrow());
    // Every device.enrolled event gets an outbox row: the events of a group are written with it.
    await typed(db).insertInto('webhookSubscriptions')
      .values({ organizationId, name: 'all', url: 'https://example.com/hook', signingSecret: 'x', eventTypes: ['device.enrolled'] }).execute();
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const tokenFor = async (maxUses: number) => (await createEnrollmentToken(db, { organizationId, name: `uses ${maxUses}`, expiresInSec: 600, maxUses, createdBy: null })).token;
  const enrollAll = (token: string, machineKeys: readonly string[]) => Promise.all(machineKeys.map((key) =>
    enrollment.enroll({ token, inventory: fakeInventory(key, key.startsWith('bad') ? 'nul\u0000host' : `host-${key}`), sourceIp: '10.0.0.1' })
      .then((result): Outcome => ({ ok: true, result }), (error: unknown): Outcome => ({ ok: false, error }))));

  it('gives each new machine its own device and working secret, spending exactly the uses the token has', async () => {
    const token = await tokenFor(30);
    const keys = Array.from({ length: 40 }, (_, i) => `burst-${engine}-${i}`);
    const outcomes = await enrollAll(token, keys);
    const enrolled = outcomes.flatMap((outcome) => (outcome.ok ? [outcome.result] : []));
    expect(enrolled).toHaveLength(30);
    // Refused in order of arrival, as one at a time would: the last ten.
    expect(outcomes.slice(30).map((outcome) => (outcome as { error: { code?: string } }).error.code)).toEqual(Array(10).fill('UNAUTHORIZED'));
    expect(new Set(enrolled.map((result) => result.deviceId)).size).toBe(30);
    for (const [i, outcome] of outcomes.entries()) {
      if (!outcome.ok) continue;
      expect(outcome.result).toMatchObject({ outcome: 'enrolled', status: 'active', nextSeq: 1, reused: false, claimsDeviceId: null });
      const row = await deviceWithKey(db, organizationId, keys[i]!, outcome.result.deviceId);
      expect(row && secretMatches(outcome.result.deviceSecret, row.secretHash)).toBe(true);
    }
    const { rows: [token30] } = await db.query<{ uses: number }>("SELECT uses FROM enrollment_tokens WHERE name = 'uses 30'");
    expect(token30!.uses).toBe(30);
    const { rows: [outbox] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notification_outbox WHERE event_id IS NOT NULL AND payload->\'data\'->\'device\'->>\'id\' = ANY($1::text[])',
      [enrolled.map((result) => result.deviceId)]);
    expect(outbox!.n).toBe(30);
  });

  it('approves one of the agents that enroll one machine key at once; the others wait, claiming it', async () => {
    const token = await tokenFor(100);
    const key = `shared-${engine}`;
    // Other machines first: they take the transactions that open at once, so the shared key's agents wait together for a group.
    const others = Array.from({ length: 6 }, (_, i) => `other-${engine}-${i}`);
    const outcomes = (await enrollAll(token, [...others, ...Array<string>(8).fill(key)])).slice(others.length);
    const results = outcomes.map((outcome) => (outcome.ok ? outcome.result : null));
    const approved = results.filter((result) => result?.outcome === 'enrolled');
    expect(approved).toHaveLength(1);
    const pending = results.filter((result) => result?.outcome === 'pending');
    expect(pending).toHaveLength(7);
    for (const claim of pending) expect(claim).toMatchObject({ claimsDeviceId: approved[0]!.deviceId, pendingReason: 'no_credentials', status: 'pending_approval' });
  });

  it('enrolls the rest of a group one of whose machines the database refuses, and gives that one its use back', async () => {
    const token = await tokenFor(20);
    // A NUL in the hostname: PostgreSQL refuses it in text, so the group's statement fails and each machine is tried alone.
    // Last: the first few calls each open a transaction of their own, the later ones wait and go as a group.
    const keys = [...Array.from({ length: 15 }, (_, i) => `good-${engine}-${i}`), 'bad-host'];
    const outcomes = await enrollAll(token, keys);
    expect(outcomes[15]!.ok).toBe(false);
    expect(outcomes.slice(0, 15).every((outcome) => outcome.ok)).toBe(true);
    const { rows: [token20] } = await db.query<{ uses: number }>("SELECT uses FROM enrollment_tokens WHERE name = 'uses 20'");
    expect(token20!.uses).toBe(15);
  });
});
