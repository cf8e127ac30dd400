import type { SqlExecutor } from '../stores/relational/index.ts';
import { AppError, isUniqueViolation } from '../errors.ts';

export interface Organization {
  id: string;
  name: string;
  createdAt: Date;
}

const COLUMNS = 'id, name, created_at AS "createdAt"';

export async function createOrganization(db: SqlExecutor, name: string): Promise<Organization> {
  try {
    const { rows } = await db.query<Organization>(`INSERT INTO organizations (name) VALUES ($1) RETURNING ${COLUMNS}`, [name]);
    return rows[0]!;
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `An organization named "${name}" already exists`);
    throw error;
  }
}

export async function listOrganizations(db: SqlExecutor): Promise<Organization[]> {
  const { rows } = await db.query<Organization>(`SELECT ${COLUMNS} FROM organizations ORDER BY created_at`);
  return rows;
}

/** Finds by id or by name (case-insensitive), for the CLI's `--org`. */
export async function findOrganization(db: SqlExecutor, idOrName: string): Promise<Organization | null> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName);
  const { rows } = await db.query<Organization>(
    `SELECT ${COLUMNS} FROM organizations WHERE ${isUuid ? 'id = $1::uuid' : 'lower(name) = lower($1)'}`,
    [idOrName],
  );
  return rows[0] ?? null;
}
