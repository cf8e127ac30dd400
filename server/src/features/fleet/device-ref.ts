import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';

/** Refuses a device that is not the organization's (or is retired) as not found: it reveals nothing. */
export async function assertDevice(db: SqlExecutor, organizationId: string, deviceId: string): Promise<void> {
  const row = await typed(db).selectFrom('devices').select('id')
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).where('decommissionedAt', 'is', null)
    .executeTakeFirst();
  if (!row) throw notFound('Device');
}

/** Runs a write whose unique name may clash, turning the clash into a CONFLICT people can read. */
export async function uniqueName<T>(what: string, name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A ${what} named "${name}" already exists`);
    throw error;
  }
}

/** Refuses one more of something an organization may only have `max` of. */
export async function assertBelow(count: Promise<{ n: number } | undefined>, max: number, what: string): Promise<void> {
  if (((await count)?.n ?? 0) >= max) throw new AppError('BAD_REQUEST', `An organization can have at most ${max} ${what}`);
}
