import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationalEngines, startHarness, type Harness } from '../../../test-support/index.ts';
import { startServer } from '../../app/create-app.ts';
import { parseEnv } from '../../platform/config/index.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { sealStoredClientSecrets, ssoSettingsForSignIn } from './oidc-repository.ts';

const PASSWORD = 'correct horse battery staple';
const run = promisify(execFile);

/** Every row of every table in the current schema, as text: what a logical dump holds. */
async function dumpRows(db: SqlExecutor): Promise<string> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`);
  expect(tables.length).toBeGreaterThan(20);
  let text = '';
  for (const { name } of tables) {
    const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${name.replace(/"/g, '""')}" t`);
    text += rows.map((row) => row.row).join('\n');
  }
  return text;
}

const settings = (clientSecret?: string) => ({
  issuer: 'http://127.0.0.1:9/oidc', clientId: 'ninjait', ...(clientSecret ? { clientSecret } : {}), emailDomain: null,
  roleClaim: 'groups', roleRules: [{ value: 'it', role: 'technician' as const }], ssoOnly: false, countsAsTwoFactor: false,
});

/** OpenID Connect client secrets are sealed before they reach the database, and old plaintext ones at start. */
describe.each(relationalEngines())('client secrets at rest on %s', (relational) => {
  let h: Harness;
  let orgId = '';
  let admin: ReturnType<Harness['http']>;

  beforeAll(async () => {
    h = await startHarness({ relational, cache: 'memory' });
    orgId = (await h.admin.admin.organizations.create.mutate({ name: 'Sealed' })).id;
    await h.admin.admin.users.create.mutate({ org: orgId, email: `admin@sealed-${relational}.test`, password: PASSWORD, role: 'admin' });
    const { sessionToken } = await h.http().auth.login.mutate({ email: `admin@sealed-${relational}.test`, password: PASSWORD });
    admin = h.http({ authorization: `Bearer ${sessionToken}` });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('keeps a saved secret out of every answer and every table, yet opens it for the sign-in', async () => {
    const secret = `cs-${randomBytes(18).toString('hex')}`;
    const saved = await admin.sso.save.mutate(settings(secret));
    const read = await admin.sso.settings.query();
    expect(JSON.stringify([saved, read])).not.toContain(secret);
    expect(JSON.stringify([saved, read])).not.toMatch(/clientSecret/);
    const db = h.server.services.db;
    expect(await dumpRows(db)).not.toContain(secret);
    const { rows } = await db.query<{ client_secret: string | null; client_secret_sealed: string }>(
      'SELECT client_secret, client_secret_sealed FROM organization_sso WHERE organization_id = $1', [orgId]);
    expect(rows[0]).toMatchObject({ client_secret: null, client_secret_sealed: expect.stringMatching(/^v1\./) });
    expect((await ssoSettingsForSignIn(db, h.server.services.secretBox, { organizationId: orgId }))?.clientSecret).toBe(secret);
    if (relational === 'postgres') {
      const { stdout } = await run('pg_dump', ['--data-only', h.server.services.env.DATABASE_URL!], { maxBuffer: 64 * 1024 * 1024 });
      expect(stdout).toContain('organization_sso');
      expect(stdout).not.toContain(secret);
    }
    // Saving without a secret keeps the sealed one.
    await admin.sso.save.mutate({ ...settings(), clientId: 'renamed' });
    expect((await ssoSettingsForSignIn(db, h.server.services.secretBox, { organizationId: orgId }))).toMatchObject({ clientId: 'renamed', clientSecret: secret });
  });

  it('seals a plaintext secret left by an older version, and refuses a sealed value moved to another row', async () => {
    const db = h.server.services.db;
    await db.query(`UPDATE organization_sso SET client_secret = 'legacy-plaintext', client_secret_sealed = NULL WHERE organization_id = $1`, [orgId]);
    expect(await sealStoredClientSecrets(db, h.server.services.secretBox)).toBe(1);
    expect(await sealStoredClientSecrets(db, h.server.services.secretBox)).toBe(0);
    expect(await dumpRows(db)).not.toContain('legacy-plaintext');
    expect((await ssoSettingsForSignIn(db, h.server.services.secretBox, { organizationId: orgId }))?.clientSecret).toBe('legacy-plaintext');
    const other = (await h.admin.admin.organizations.create.mutate({ name: 'Other' })).id;
    await db.query(`INSERT INTO organization_sso (organization_id, issuer, client_id, client_secret_sealed)
      SELECT $1, issuer, client_id, client_secret_sealed FROM organization_sso WHERE organization_id = $2`, [other, orgId]);
    await expect(ssoSettingsForSignIn(db, h.server.services.secretBox, { organizationId: other })).rejects.toThrow();
  });
});

describe('client secrets of an upgraded install', () => {
  it('are sealed when the server starts, with the key it made in DATA_DIR', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ninjait-sealed-'));
    try {
      const env = parseEnv({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
      let server = await startServer(env);
      const { rows } = await server.services.db.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('Upgraded') RETURNING id`);
      await server.services.db.query(`INSERT INTO organization_sso (organization_id, issuer, client_id, client_secret) VALUES ($1, 'https://idp.example', 'c', 'from-before-027')`, [rows[0]!.id]);
      await server.close();
      server = await startServer(env);
      try {
        const { rows: after } = await server.services.db.query<{ client_secret: string | null }>('SELECT client_secret FROM organization_sso');
        expect(after).toEqual([{ client_secret: null }]);
        expect((await ssoSettingsForSignIn(server.services.db, server.services.secretBox, { organizationId: rows[0]!.id }))?.clientSecret).toBe('from-before-027');
      } finally {
        await server.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
