import { roleSchema, type Role } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';

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

const RECORD_COLUMNS = `k.id, k.name, k.key_prefix AS "keyPrefix", k.scopes, k.created_by AS "createdBy", u.email AS "createdByEmail",
  k.expires_at AS "expiresAt", k.last_used_at AS "lastUsedAt", k.revoked_at AS "revokedAt", k.created_at AS "createdAt"`;

export async function insertApiKey(db: SqlExecutor, key: {
  organizationId: string; createdBy: string; name: string; keyHash: string; keyPrefix: string; scopes: string[]; expiresInDays: number | null;
}): Promise<ApiKeyRecord> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO api_keys (organization_id, created_by, name, key_hash, key_prefix, scopes, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6::text[], CASE WHEN $7::int IS NULL THEN NULL ELSE NOW() + $7::int * INTERVAL '1 day' END)
     RETURNING id`,
    [key.organizationId, key.createdBy, key.name, key.keyHash, key.keyPrefix, key.scopes, key.expiresInDays],
  );
  return (await listApiKeys(db, key.organizationId, { id: rows[0]!.id }))[0]!;
}

/** An organization's keys, newest first; `createdBy` narrows to one person's, `id` to one key. */
export async function listApiKeys(db: SqlExecutor, organizationId: string, filter: { createdBy?: string; id?: string } = {}): Promise<ApiKeyRecord[]> {
  const { rows } = await db.query<ApiKeyRecord>(
    `SELECT ${RECORD_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.created_by
     WHERE k.organization_id = $1 AND ($2::uuid IS NULL OR k.created_by = $2) AND ($3::uuid IS NULL OR k.id = $3)
     ORDER BY k.created_at DESC LIMIT 500`,
    [organizationId, filter.createdBy ?? null, filter.id ?? null],
  );
  return rows;
}

/** Revokes a key of the organization (of one creator when `createdBy` is set); false when there is none to revoke. */
export async function revokeApiKey(db: SqlExecutor, organizationId: string, id: string, createdBy: string | null): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE api_keys SET revoked_at = NOW()
     WHERE id = $1 AND organization_id = $2 AND ($3::uuid IS NULL OR created_by = $3) AND revoked_at IS NULL RETURNING id`,
    [id, organizationId, createdBy],
  );
  return rows.length > 0;
}

/**
 * The key with this hash when it is live (not revoked, not expired) and its creator still has an
 * account in the key's organization. The role is the creator's now, not at creation.
 */
export async function findLiveKey(db: SqlExecutor, keyHash: string): Promise<ApiKeyHolder | null> {
  const { rows } = await db.query<Omit<ApiKeyHolder, 'role'> & { role: string }>(
    `SELECT k.id AS "keyId", k.scopes, u.id AS "userId", u.email, u.role, k.organization_id AS "organizationId", k.last_used_at AS "lastUsedAt"
     FROM api_keys k JOIN users u ON u.id = k.created_by
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > NOW())
       AND u.removed_at IS NULL AND u.organization_id = k.organization_id`,
    [keyHash],
  );
  const row = rows[0];
  const role = row ? roleSchema.safeParse(row.role) : null;
  return row && role?.success ? { ...row, role: role.data } : null;
}

export async function touchApiKey(db: SqlExecutor, keyId: string, ip: string | null): Promise<void> {
  await db.query('UPDATE api_keys SET last_used_at = NOW(), last_used_ip = $2 WHERE id = $1', [keyId, ip?.slice(0, 64) ?? null]);
}
