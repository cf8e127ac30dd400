import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import { AppError } from '../../platform/errors.ts';
import {
  createOrganization, createOrganizationWithPerson, findOrganization, installOrganizationId, listOrganizations,
  listOrganizationSummaries, organizationName,
} from './organizations.ts';

// The organizations repository is written with typed queries (Kysely over the relational port):
// this runs it on both engines, in and out of a transaction.
describe.each(relationalEngines())('organizations repository on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-orgs-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates, lists oldest first, finds by id or name, and refuses a duplicate name in any case', async () => {
    const first = await createOrganization(db, 'Acme IT');
    const { organization: second, person } = await createOrganizationWithPerson(db, 'Globex', {
      email: 'owner@globex.test', role: 'owner', passwordHash: 'not-a-real-hash',
    });
    expect(first).toEqual({ id: expect.any(String), name: 'Acme IT', createdAt: expect.any(Date) });
    expect(person.organizationId).toBe(second.id);
    expect((await listOrganizations(db)).map((org) => org.name)).toEqual(['Acme IT', 'Globex']);
    expect(await installOrganizationId(db)).toBe(first.id);
    expect(await findOrganization(db, 'acme it')).toEqual(first);
    expect(await findOrganization(db, first.id)).toEqual(first);
    expect(await findOrganization(db, 'nobody')).toBeNull();
    expect(await organizationName(db, second.id)).toBe('Globex');
    const duplicate = await createOrganization(db, 'ACME it').catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(AppError);
    expect((duplicate as AppError).code).toBe('CONFLICT');
  });

  it('rolls the organization back when its first person cannot be added', async () => {
    const before = (await listOrganizations(db)).length;
    await expect(createOrganizationWithPerson(db, 'Initech', { email: 'owner@globex.test', role: 'owner', passwordHash: 'x' }))
      .rejects.toThrow();
    expect(await listOrganizations(db)).toHaveLength(before);
  });

  it('counts the people and devices still there, per organization', async () => {
    const [acme] = await listOrganizations(db);
    await db.query(`INSERT INTO devices (organization_id, name, status) VALUES ($1, 'a', 'online'), ($1, 'b', 'offline'), ($1, 'gone', 'offline')`, [acme!.id]);
    await db.query(`UPDATE devices SET decommissioned_at = NOW() WHERE name = 'gone'`);
    const summaries = await listOrganizationSummaries(db);
    expect(summaries.map(({ name, people, devices }) => ({ name, people, devices }))).toEqual([
      { name: 'Acme IT', people: 0, devices: 2 },
      { name: 'Globex', people: 1, devices: 0 },
    ]);
    expect(await listOrganizationSummaries(db, acme!.id)).toEqual([summaries[0]]);
  });
});
