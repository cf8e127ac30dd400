import { z } from 'zod';
import type { SqlExecutor } from '../stores/relational/index.ts';
import { AppError, notFound } from '../errors.ts';

/** A device by id, or by name (optionally within an organization named or identified by `org`), for the CLI. */
export async function resolveDeviceRef(db: SqlExecutor, ref: string, org?: string): Promise<string> {
  const isId = z.uuid().safeParse(ref).success;
  const orgIsId = org !== undefined && z.uuid().safeParse(org).success;
  const { rows } = await db.query<{ id: string }>(
    `SELECT d.id FROM devices d JOIN organizations o ON o.id = d.organization_id
     WHERE d.decommissioned_at IS NULL
       AND ${isId ? 'd.id = $1::uuid' : 'lower(d.name) = lower($1)'}
       AND ($2::text IS NULL OR ${orgIsId ? 'o.id = $2::uuid' : 'lower(o.name) = lower($2)'})
     LIMIT 2`,
    [ref, org ?? null],
  );
  if (rows.length === 0) throw notFound(`Device "${ref}"`);
  if (rows.length > 1) throw new AppError('CONFLICT', `Several devices are named "${ref}": use the device id, or --org`);
  return rows[0]!.id;
}
