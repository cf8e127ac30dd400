import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';
import type { Severity } from './conditions.ts';

export const CHANNEL_KINDS = ['email', 'webhook', 'slack', 'teams'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** A channel as admins see it: its state, never its signing secret. */
export interface Channel {
  id: string;
  organizationId: string;
  name: string;
  kind: ChannelKind;
  /** The URL (webhook, Slack, Teams) or the address (email). */
  target: string;
  minSeverity: Severity;
  consecutiveFailures: number;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Notifications waiting to leave (retries included). */
  pending: number;
  createdAt: Date;
}

/** What the dispatcher needs to send: the channel and its secret. */
export interface ChannelForSending { id: string; organizationId: string; name: string; kind: ChannelKind; target: string; signingSecret: string | null; lastDigestAt: Date | null }

/**
 * Every query of notification channels, their delivery log and maintenance windows. Typed with
 * Kysely; each function is one statement unless said.
 */

/** What the schema leaves wider than the rows are: values the code writes. */
type ChannelNarrowing = { kind: ChannelKind; minSeverity: Severity };

/** Channels with their count of notifications waiting, as `c`; the caller adds the filters. */
function selectChannels(db: SqlExecutor) {
  return typed(db).selectFrom('notificationChannels as c')
    .select((eb) => [
      'c.id', 'c.organizationId', 'c.name', 'c.kind', 'c.target', 'c.minSeverity', 'c.consecutiveFailures', 'c.lastSuccessAt',
      'c.lastError', 'c.lastErrorAt', 'c.createdAt',
      eb.selectFrom('notificationOutbox as o').select(sql<number>`count(*)::int`.as('pending'))
        .whereRef('o.channelId', '=', 'c.id').where('o.state', '=', sql.lit('pending')).$asScalar().as('pending'),
    ])
    .$narrowType<ChannelNarrowing & { pending: number }>();
}

export interface ChannelInput { name: string; kind: ChannelKind; target: string; minSeverity: Severity; signingSecret: string | null }

export async function createChannel(db: SqlExecutor, organizationId: string, input: ChannelInput): Promise<Channel> {
  try {
    const { id } = await typed(db).insertInto('notificationChannels')
      .values({ organizationId, name: input.name, kind: input.kind, target: input.target, minSeverity: input.minSeverity, signingSecret: input.signingSecret })
      .returning('id').executeTakeFirstOrThrow();
    return getChannel(db, organizationId, id);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A channel named "${input.name}" already exists`);
    throw error;
  }
}

export async function getChannel(db: SqlExecutor, organizationId: string, id: string): Promise<Channel> {
  const row = await selectChannels(db).where('c.id', '=', id).where('c.organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Channel');
  return row;
}

/** Channel ids by id or name (the CLI names them); an unknown one is not found. One statement per ref. */
export async function channelIdsByRef(db: SqlExecutor, organizationId: string, refs: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const row = await typed(db).selectFrom('notificationChannels').select('id').where('organizationId', '=', organizationId)
      .where((eb) => eb.or([eb(sql<string>`${eb.ref('id')}::text`, '=', ref), eb('name', '=', ref)]))
      .limit(1).executeTakeFirst();
    if (!row) throw notFound(`Channel "${ref}"`);
    ids.push(row.id);
  }
  return ids;
}

export async function listChannels(db: SqlExecutor, organizationId: string): Promise<Channel[]> {
  return selectChannels(db).where('c.organizationId', '=', organizationId).orderBy('c.name').execute();
}

/** Two statements: the channel goes, and the rules that named it stop naming it. */
export async function deleteChannel(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const result = await typed(db).deleteFrom('notificationChannels').where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('Channel');
  await typed(db).updateTable('alertRules')
    .set((eb) => ({ channelIds: sql<string[]>`array_remove(${eb.ref('channelIds')}, ${id}::uuid)` }))
    .where('organizationId', '=', organizationId).execute();
}

export async function channelsForSending(db: SqlExecutor, ids: readonly string[]): Promise<ChannelForSending[]> {
  return typed(db).selectFrom('notificationChannels')
    .select(['id', 'organizationId', 'name', 'kind', 'target', 'signingSecret', 'lastDigestAt'])
    .where('id', '=', sql<string>`ANY(${ids}::uuid[])`)
    .$narrowType<{ kind: ChannelKind }>().execute();
}

/** A channel's health after a delivery attempt, for admins (and the digest window). */
export async function recordChannelOutcome(db: SqlExecutor, id: string, outcome: { ok: boolean; error: string | null; digest: boolean }): Promise<void> {
  const now = sql<Date>`NOW()`;
  await typed(db).updateTable('notificationChannels')
    .set((eb) => (outcome.ok
      ? { consecutiveFailures: sql.lit(0), lastSuccessAt: now, ...(outcome.digest ? { lastDigestAt: now } : {}) }
      : { consecutiveFailures: eb('consecutiveFailures', '+', sql.lit(1)), lastError: outcome.error ?? 'failed', lastErrorAt: now }))
    .where('id', '=', id).execute();
}

export interface Delivery { id: number; outboxId: number; attempt: number; ok: boolean; statusCode: number | null; error: string | null; messages: number; durationMs: number; createdAt: Date }

/** The channel's latest delivery attempts, newest first. */
export async function listDeliveries(db: SqlExecutor, organizationId: string, channelId: string, limit: number): Promise<Delivery[]> {
  await getChannel(db, organizationId, channelId);
  return typed(db).selectFrom('notificationDeliveries')
    .select(['id', 'outboxId', 'attempt', 'ok', 'statusCode', 'error', 'messages', 'durationMs', 'createdAt'])
    .where('channelId', '=', channelId).orderBy('id', 'desc').limit(limit).execute();
}

export interface MaintenanceWindow { id: string; organizationId: string; deviceId: string | null; startsAt: Date; endsAt: Date; reason: string; createdBy: string | null; createdAt: Date }

const WINDOW_COLUMNS = ['id', 'organizationId', 'deviceId', 'startsAt', 'endsAt', 'reason', 'createdBy', 'createdAt'] as const;

/** Mutes a device (or the whole organization when `deviceId` is null) from `startsAt` to `endsAt`. */
export async function createMaintenanceWindow(db: SqlExecutor, organizationId: string, input: { deviceId: string | null; startsAt: Date; endsAt: Date; reason: string; createdBy: string | null }): Promise<MaintenanceWindow> {
  if (input.endsAt <= input.startsAt) throw new AppError('BAD_REQUEST', 'A maintenance window must end after it starts');
  if (input.deviceId) {
    const device = await typed(db).selectFrom('devices').select(sql.lit(1).as('one'))
      .where('id', '=', input.deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
    if (!device) throw notFound('Device');
  }
  return typed(db).insertInto('maintenanceWindows')
    .values({ organizationId, deviceId: input.deviceId, startsAt: input.startsAt, endsAt: input.endsAt, reason: input.reason, createdBy: input.createdBy })
    .returning(WINDOW_COLUMNS).executeTakeFirstOrThrow();
}

/** Windows not yet over, soonest first. */
export async function listMaintenanceWindows(db: SqlExecutor, organizationId: string): Promise<MaintenanceWindow[]> {
  return typed(db).selectFrom('maintenanceWindows').select(WINDOW_COLUMNS)
    .where('organizationId', '=', organizationId).where('endsAt', '>', sql<Date>`NOW()`)
    .orderBy('startsAt').orderBy('id').execute();
}

export async function deleteMaintenanceWindow(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const result = await typed(db).deleteFrom('maintenanceWindows').where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('Maintenance window');
}
