import { roleSchema, type Role } from '@ninjait/shared';
import { sql } from 'kysely';
import { textArray, typed, type SqlExecutor } from '../../stores/relational/index.ts';

/** What people see of a key: never the key, never its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  keyPrefix: string;
  scopes: string[];
  createdBy: string;
  createdByEmail: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

/** A live key and its creator as they are now (role, organization). */
export interface ApiKeyHolder {
  keyId: string;
  scopes: string[];
  userId: string;
  email: string;
  role: Role;
  organizationId: string;
  lastUsedAt: Date | null;
}

export async function insertApiKey(db: SqlExecutor, key: {
  organizationId: string; createdBy: string; name: string; keyHash: string; keyPrefix: string; scopes: string[]; expiresInDays: number | null;
}): Promise<ApiKeyRecord> {
  const { id } = await typed(db).insertInto('apiKeys')
    .values({
      organizationId: key.organizationId, createdBy: key.createdBy, name: key.name, keyHash: key.keyHash, keyPrefix: key.keyPrefix,
      scopes: textArray(key.scopes),
      expiresAt: key.expiresInDays === null ? null : sql<Date>`NOW() + ${key.expiresInDays}::int * INTERVAL '1 day'`,
    })
    .returning('id').executeTakeFirstOrThrow();
  return (await listApiKeys(db, key.organizationId, { id }))[0]!;
}

/** An organization's keys, newest first; `createdBy` narrows to one person's, `id` to one key. */
export async function listApiKeys(db: SqlExecutor, organizationId: string, filter: { createdBy?: string; id?: string } = {}): Promise<ApiKeyRecord[]> {
  const { createdBy, id } = filter;
  return typed(db).selectFrom('apiKeys as k').innerJoin('users as u', 'u.id', 'k.createdBy')
    .select(['k.id', 'k.name', 'k.keyPrefix', 'k.scopes', 'k.createdBy', 'u.email as createdByEmail', 'k.expiresAt', 'k.lastUsedAt', 'k.revokedAt', 'k.createdAt'])
    .where('k.organizationId', '=', organizationId)
    .$if(createdBy !== undefined, (query) => query.where('k.createdBy', '=', createdBy!))
    .$if(id !== undefined, (query) => query.where('k.id', '=', id!))
    .orderBy('k.createdAt', 'desc').limit(500)
    .execute();
}

/** Revokes a key of the organization (of one creator when `createdBy` is set); false when there is none to revoke. */
export async function revokeApiKey(db: SqlExecutor, organizationId: string, id: string, createdBy: string | null): Promise<boolean> {
  const row = await typed(db).updateTable('apiKeys').set({ revokedAt: sql<Date>`NOW()` })
    .where('id', '=', id).where('organizationId', '=', organizationId).where('revokedAt', 'is', null)
    .$if(createdBy !== null, (query) => query.where('createdBy', '=', createdBy!))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The key with this hash when it is live (not revoked, not expired) and its creator still has an
 * account in the key's organization. The role is the creator's now, not at creation.
 */
export async function findLiveKey(db: SqlExecutor, keyHash: string): Promise<ApiKeyHolder | null> {
  const row = await typed(db).selectFrom('apiKeys as k').innerJoin('users as u', 'u.id', 'k.createdBy')
    .select(['k.id as keyId', 'k.scopes', 'u.id as userId', 'u.email', 'u.role', 'k.organizationId', 'k.lastUsedAt'])
    .where('k.keyHash', '=', keyHash).where('k.revokedAt', 'is', null)
    .where((eb) => eb.or([eb('k.expiresAt', 'is', null), eb('k.expiresAt', '>', sql<Date>`NOW()`)]))
    .where('u.removedAt', 'is', null).whereRef('u.organizationId', '=', 'k.organizationId')
    .executeTakeFirst();
  const role = row ? roleSchema.safeParse(row.role) : null;
  return row && role?.success ? { ...row, role: role.data } : null;
}

export async function touchApiKey(db: SqlExecutor, keyId: string, ip: string | null): Promise<void> {
  await typed(db).updateTable('apiKeys').set({ lastUsedAt: sql<Date>`NOW()`, lastUsedIp: ip?.slice(0, 64) ?? null }).where('id', '=', keyId).execute();
}
