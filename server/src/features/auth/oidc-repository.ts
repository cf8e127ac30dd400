import { sql } from 'kysely';
import type { Role } from '@ninjait/shared';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation } from '../../platform/errors.ts';
import type { SecretBox } from '../../platform/secret-box.ts';

/** A claim value that grants a role: `role_claim` holds `value` (or contains it, for a list claim). */
export interface RoleRule {
  value: string;
  role: Role;
}

/** An organization's OpenID Connect settings; the secret only for the sign-in itself. */
export interface SsoSettings {
  organizationId: string;
  issuer: string;
  clientId: string;
  emailDomain: string | null;
  roleClaim: string;
  roleRules: RoleRule[];
  ssoOnly: boolean;
  countsAsTwoFactor: boolean;
  updatedAt: Date;
}
export type SsoSettingsWithSecret = SsoSettings & { clientSecret: string };

const PUBLIC_COLUMNS = ['organizationId', 'issuer', 'clientId', 'emailDomain', 'roleClaim', 'roleRules', 'ssoOnly', 'countsAsTwoFactor', 'updatedAt'] as const;

const parseRules = (value: unknown): RoleRule[] => (typeof value === 'string' ? JSON.parse(value) as RoleRule[] : value as RoleRule[]);

/** The settings as admins read them: never the client secret, only whether one is kept. */
export async function ssoSettings(db: SqlExecutor, organizationId: string): Promise<SsoSettings | null> {
  const row = await typed(db).selectFrom('organizationSso').select(PUBLIC_COLUMNS).where('organizationId', '=', organizationId).executeTakeFirst();
  return row ? { ...row, roleRules: parseRules(row.roleRules) } : null;
}

/**
 * The settings with the secret opened, for talking to the provider; found by organization id or
 * email domain. The secret is stored sealed (migration 027) and opened only here, in memory.
 */
export async function ssoSettingsForSignIn(db: SqlExecutor, box: SecretBox, key: { organizationId: string } | { emailDomain: string }): Promise<SsoSettingsWithSecret | null> {
  const row = await typed(db).selectFrom('organizationSso').select([...PUBLIC_COLUMNS, 'clientSecretSealed'])
    .$if('organizationId' in key, (query) => query.where('organizationId', '=', (key as { organizationId: string }).organizationId))
    .$if('emailDomain' in key, (query) => query.where('emailDomain', '=', (key as { emailDomain: string }).emailDomain))
    .executeTakeFirst();
  if (!row) return null;
  const { clientSecretSealed, ...settings } = row;
  if (clientSecretSealed === null) throw new AppError('SERVICE_UNAVAILABLE', 'Single sign-on is not ready: its client secret is sealed when the server starts; restart it');
  return { ...settings, roleRules: parseRules(row.roleRules), clientSecret: box.open(clientSecretSealed, row.organizationId) };
}

/**
 * Seals every client secret still kept in plaintext (rows from before migration 027) and clears
 * the plaintext. Runs at start, before the server serves; returns how many it sealed.
 */
export async function sealStoredClientSecrets(db: SqlExecutor, box: SecretBox): Promise<number> {
  const rows = await typed(db).selectFrom('organizationSso').select(['organizationId', 'clientSecret']).where('clientSecret', 'is not', null).execute();
  for (const row of rows) {
    await typed(db).updateTable('organizationSso')
      .set({ clientSecretSealed: box.seal(row.clientSecret!, row.organizationId), clientSecret: null })
      .where('organizationId', '=', row.organizationId).where('clientSecret', '=', row.clientSecret).execute();
  }
  return rows.length;
}

export interface SsoSettingsInput {
  issuer: string;
  clientId: string;
  /** Undefined keeps the secret already stored (the console never has it to send back). */
  clientSecret?: string | undefined;
  emailDomain: string | null;
  roleClaim: string;
  roleRules: RoleRule[];
  ssoOnly: boolean;
  countsAsTwoFactor: boolean;
}

/** Creates or replaces the organization's settings; a first save must carry the secret. */
export async function saveSsoSettings(db: SqlExecutor, box: SecretBox, organizationId: string, input: SsoSettingsInput): Promise<SsoSettings> {
  const { clientSecret: plaintext, ...rest } = input;
  // Sealed before it leaves this process: the database (and its backups) never see the secret.
  const sealed = plaintext === undefined ? undefined : { clientSecretSealed: box.seal(plaintext, organizationId), clientSecret: null };
  const values = { ...rest, roleRules: JSON.stringify(input.roleRules), updatedAt: sql<Date>`NOW()` };
  try {
    if (sealed === undefined) {
      const updated = await typed(db).updateTable('organizationSso').set(values).where('organizationId', '=', organizationId).returning('organizationId').executeTakeFirst();
      if (!updated) throw new AppError('BAD_REQUEST', 'Enter the client secret: single sign-on is not set up yet');
    } else {
      await typed(db).insertInto('organizationSso').values({ organizationId, ...sealed, ...values })
        .onConflict((conflict) => conflict.column('organizationId').doUpdateSet({ ...sealed, ...values })).execute();
    }
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `Another organization already signs in people of ${input.emailDomain ?? 'that domain'}`);
    throw error;
  }
  return (await ssoSettings(db, organizationId))!;
}

export async function deleteSsoSettings(db: SqlExecutor, organizationId: string): Promise<boolean> {
  const result = await typed(db).deleteFrom('organizationSso').where('organizationId', '=', organizationId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Whether people of this organization must sign in through its provider. */
export async function requiresSso(db: SqlExecutor, organizationId: string): Promise<boolean> {
  const row = await typed(db).selectFrom('organizationSso').select('ssoOnly').where('organizationId', '=', organizationId).executeTakeFirst();
  return row?.ssoOnly ?? false;
}

/** A sign-in under way: what the provider's answer must match, kept on the server. */
export interface PendingSignIn {
  stateHash: string;
  organizationId: string;
  nonce: string;
  codeVerifier: string;
  expiresAt: Date;
}

/** Keeps a new sign-in, dropping those that expired meanwhile (nobody else cleans them). */
export async function savePendingSignIn(db: SqlExecutor, pending: PendingSignIn): Promise<void> {
  await typed(db).deleteFrom('oidcLogins').where('expiresAt', '<', sql<Date>`NOW()`).execute();
  await typed(db).insertInto('oidcLogins').values(pending).execute();
}

/** Takes the sign-in out, once: a second return with the same state finds nothing. Null when expired. */
export async function takePendingSignIn(db: SqlExecutor, stateHash: string): Promise<PendingSignIn | null> {
  const row = await typed(db).deleteFrom('oidcLogins').where('stateHash', '=', stateHash)
    .returning(['stateHash', 'organizationId', 'nonce', 'codeVerifier', 'expiresAt']).executeTakeFirst();
  return row && new Date(row.expiresAt).getTime() > Date.now() ? { ...row, expiresAt: new Date(row.expiresAt) } : null;
}

/** Whoever holds this email, in any organization, removed or not: an email names one person. */
export async function personByEmail(db: SqlExecutor, email: string) {
  return typed(db).selectFrom('users').select(['id', 'email', 'role', 'organizationId', 'removedAt'])
    .where(sql<string>`email`, '=', sql<string>`lower(${email})`).executeTakeFirst();
}
