import { sql, type ExpressionBuilder } from 'kysely';
import { anyText, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import type { Database } from '../../stores/relational/schema.ts';
import { notFound } from '../../platform/errors.ts';
import { WINDOWS_OS_TYPES, type OsFamily } from './shells.ts';
import type { AgentResultStatus, Command, CommandResult, CommandSpec, CommandStatus, Interpreter, OutputChunk, Shell } from './types.ts';

/**
 * Every query of commands and their stored output: typed with Kysely, so a renamed column is a
 * compile error, with `sql` fragments only where PostgreSQL says it better (CASE on the row's own
 * status, intervals, arrays as one parameter, JSON). Each function is one statement, as before.
 */

const COMMAND_COLUMNS = [
  'id', 'organizationId', 'deviceId', 'requestedBy', 'requestedByLabel', 'bulkJobId', 'shell', 'interpreter', 'script', 'timeoutSec',
  'status', 'exitCode', 'error', 'outputBytes', 'outputTruncated', 'deliveryCount', 'createdAt', 'expiresAt', 'sentAt',
  'startedAt', 'finishedAt', 'cancelRequestedAt',
] as const;

const SPEC_COLUMNS = ['id', 'shell', 'interpreter', 'script', 'timeoutSec', 'env'] as const;

/** What the schema leaves wider than the rows are: values the code writes, and columns set on insert. */
type CommandNarrowing = { shell: Shell; interpreter: Interpreter | null; status: CommandStatus; outputBytes: number; outputTruncated: boolean; deliveryCount: number; createdAt: Date };
type SpecNarrowing = { shell: Shell; interpreter: Interpreter | null; env: Record<string, string> | null };

/** Why a queued command ended without running. */
const EXPIRED_ERROR = 'Expired before the device came online';

const anyInt = (values: readonly number[]) => sql<number>`ANY(${values}::int[])`;

/** The wire spec of a command row; `env` only when the command has one (plain commands look as they always did). */
export function toSpec(row: { id: string; shell: Shell; interpreter: Interpreter | null; script: string; timeoutSec: number; env?: Record<string, string> | null }): CommandSpec {
  // This server takes output inside the result: a quick command costs its agent one call.
  const spec: CommandSpec = { id: row.id, shell: row.shell, interpreter: row.interpreter, script: row.script, timeoutSec: row.timeoutSec, outputInResult: true };
  if (row.env && Object.keys(row.env).length > 0) spec.env = row.env;
  return spec;
}

/** What a request fixes about a command; the rest (status, times, output) the state machine fills in. */
export interface NewCommand {
  deviceId: string;
  /** The requester's organization; null = any (the local admin). */
  organizationId: string | null;
  /** The shell per OS family (`shellsByFamily`); null where the requested one is not available. */
  shells: Record<OsFamily, Shell | null>;
  requestedBy: string | null;
  requestedByLabel: string;
  bulkJobId: string | null;
  interpreter: Interpreter | null;
  script: string;
  timeoutSec: number;
  expiresInSec: number;
  /** Environment variables for the process (script parameters), or null. */
  env: Record<string, string> | null;
  sourceIp: string | null;
  /** The device's stream is on this instance and takes it now: the row starts `sent`, claimed by its creator. */
  sentNow: boolean;
}

/** The shell a device's commands run in, by its OS family (null: no OS reported yet). */
function deviceShell(eb: ExpressionBuilder<Database, 'devices'>, shells: NewCommand['shells']) {
  return sql<Shell | null>`CASE WHEN ${eb.ref('osType')} IS NULL OR ${eb.ref('osType')} = '' THEN NULL
    WHEN lower(${eb.ref('osType')}) = ${anyText(WINDOWS_OS_TYPES)} THEN ${shells.windows} ELSE ${shells.posix} END`;
}

/** The columns a new command is written with, one or a wave at a time. */
const INSERTED_COLUMNS = [
  'organizationId', 'deviceId', 'requestedBy', 'requestedByLabel', 'bulkJobId', 'shell', 'interpreter', 'script', 'timeoutSec',
  'expiresAt', 'sourceIp', 'status', 'sentAt', 'deliveryCount', 'env',
] as const;

/**
 * Looks the device up and inserts the command in one statement: the device must be enrolled
 * (not decommissioned) in the organization and approved, and the shell is picked by its OS
 * family. No row means no such device; a row without a command means it waits for approval,
 * or its OS has no such shell (or none reported).
 */
export async function insertCommand(db: SqlExecutor, input: NewCommand): Promise<{ osType: string | null; deviceName: string; approved: boolean; command: Command | null } | null> {
  const row = await typed(db)
    .with('d', (q) => q.selectFrom('devices')
      .select((eb) => [
        'id', 'organizationId', 'osType', 'name', eb('approvalState', '=', sql.lit('approved')).as('approved'),
        deviceShell(eb, input.shells).as('shell'),
      ])
      .where('id', '=', input.deviceId).where('decommissionedAt', 'is', null)
      .$if(input.organizationId !== null, (query) => query.where('organizationId', '=', input.organizationId!)))
    .with('c', (q) => q.insertInto('commands')
      .columns(INSERTED_COLUMNS)
      .expression((eb) => eb.selectFrom('d')
        .select([
          'd.organizationId', 'd.id', sql<string | null>`${input.requestedBy}`.as('requestedBy'), sql<string>`${input.requestedByLabel}`.as('requestedByLabel'),
          sql<string | null>`${input.bulkJobId}`.as('bulkJobId'), 'd.shell', sql<string | null>`${input.interpreter}`.as('interpreter'),
          sql<string>`${input.script}`.as('script'), sql<number>`${input.timeoutSec}`.as('timeoutSec'),
          sql<Date>`NOW() + make_interval(secs => ${input.expiresInSec})`.as('expiresAt'), sql<string | null>`${input.sourceIp}::inet`.as('sourceIp'),
          // Claimed by its creator when the stream is here: sent once already.
          (input.sentNow ? sql.lit('sent') : sql.lit('queued')).as('status'), (input.sentNow ? sql<Date | null>`NOW()` : sql<Date | null>`NULL`).as('sentAt'),
          sql.lit(input.sentNow ? 1 : 0).as('deliveryCount'), sql<unknown>`${input.env ? JSON.stringify(input.env) : null}::jsonb`.as('env'),
        ])
        .where('d.shell', 'is not', null).where('d.approved', '=', sql.lit(true)))
      .returning(COMMAND_COLUMNS))
    .selectFrom('d').leftJoin('c', (join) => join.onTrue())
    .select(['d.osType', 'd.name as deviceName', 'd.approved', ...COMMAND_COLUMNS.map((column) => `c.${column}` as const)])
    .executeTakeFirst();
  if (!row) return null;
  const { osType, deviceName, approved, ...command } = row;
  return { osType, deviceName, approved: approved as boolean, command: command.id ? (command as unknown as Command) : null };
}

/** What a bulk job's wave fixes about its commands: one script for many devices of one organization. */
export interface NewCommands extends Omit<NewCommand, 'deviceId' | 'organizationId' | 'sentNow' | 'bulkJobId'> {
  organizationId: string;
  bulkJobId: string;
  deviceIds: readonly string[];
  /** Those of `deviceIds` whose stream is on this instance: their rows start `sent`, claimed by their creator. */
  sentNow: readonly string[];
}

/** Per device of a batch: as `insertCommand`'s row (no row: no such live device of the organization). */
export interface InsertedOne { deviceId: string; osType: string | null; deviceName: string; approved: boolean; command: Command | null }

/**
 * `insertCommand` for many devices in one statement (a bulk job's wave): each device is looked
 * up with the same rules, and gets its command only when it is live, the organization's,
 * approved and has the shell. Devices absent from the result were not found.
 */
export async function insertCommands(db: SqlExecutor, input: NewCommands): Promise<InsertedOne[]> {
  const rows = await typed(db)
    .with('d', (q) => q.selectFrom('devices')
      .select((eb) => [
        'id', 'organizationId', 'osType', 'name', eb('approvalState', '=', sql.lit('approved')).as('approved'),
        deviceShell(eb, input.shells).as('shell'),
        sql<boolean>`${eb.ref('id')} = ANY(${input.sentNow}::uuid[])`.as('sentNow'),
      ])
      .where('id', '=', sql<string>`ANY(${input.deviceIds}::uuid[])`).where('decommissionedAt', 'is', null)
      .where('organizationId', '=', input.organizationId))
    .with('c', (q) => q.insertInto('commands')
      .columns(INSERTED_COLUMNS)
      .expression((eb) => eb.selectFrom('d')
        .select([
          'd.organizationId', 'd.id', sql<string | null>`${input.requestedBy}`.as('requestedBy'), sql<string>`${input.requestedByLabel}`.as('requestedByLabel'),
          sql<string | null>`${input.bulkJobId}::uuid`.as('bulkJobId'), 'd.shell', sql<string | null>`${input.interpreter}`.as('interpreter'),
          sql<string>`${input.script}`.as('script'), sql<number>`${input.timeoutSec}::int`.as('timeoutSec'),
          sql<Date>`NOW() + make_interval(secs => ${input.expiresInSec})`.as('expiresAt'), sql<string | null>`${input.sourceIp}::inet`.as('sourceIp'),
          sql<string>`CASE WHEN d.sent_now THEN 'sent' ELSE 'queued' END`.as('status'),
          sql<Date | null>`CASE WHEN d.sent_now THEN NOW() END`.as('sentAt'),
          sql<number>`CASE WHEN d.sent_now THEN 1 ELSE 0 END`.as('deliveryCount'),
          sql<unknown>`${input.env ? JSON.stringify(input.env) : null}::jsonb`.as('env'),
        ])
        .where('d.shell', 'is not', null).where('d.approved', '=', sql.lit(true)))
      .returning(COMMAND_COLUMNS))
    .selectFrom('d').leftJoin('c', 'c.deviceId', 'd.id')
    .select(['d.id as targetDeviceId', 'd.osType', 'd.name as deviceName', 'd.approved', ...COMMAND_COLUMNS.map((column) => `c.${column}` as const)])
    .execute();
  return rows.map(({ targetDeviceId, osType, deviceName, approved, ...command }) => ({
    deviceId: targetDeviceId, osType, deviceName, approved: approved as boolean, command: command.id ? (command as unknown as Command) : null,
  }));
}

/**
 * Gives a `sent` command that could not be handed to its stream (the socket closed meanwhile)
 * back to the queue, so whichever instance holds the device next claims it. False when it moved on.
 */
export async function requeueUnsent(db: SqlExecutor, id: string): Promise<boolean> {
  const result = await typed(db).updateTable('commands')
    .set((eb) => ({ status: sql.lit('queued'), sentAt: null, deliveryCount: eb('deliveryCount', '-', sql.lit(1)) }))
    .where('id', '=', id).where('status', '=', sql.lit('sent')).where('startedAt', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** One command of an organization (null = any, for the local admin); another organization's id is not found. */
export async function getCommand(db: SqlExecutor, organizationId: string | null, id: string, lock = false): Promise<Command> {
  const row = await typed(db).selectFrom('commands').select(COMMAND_COLUMNS).where('id', '=', id)
    .$if(organizationId !== null, (query) => query.where('organizationId', '=', organizationId!))
    .$if(lock, (query) => query.forUpdate())
    .$narrowType<CommandNarrowing>().executeTakeFirst();
  if (!row) throw notFound('Command');
  return row;
}

export interface ListFilter {
  organizationId: string;
  deviceId?: string | undefined;
  status?: CommandStatus[] | undefined;
  bulkJobId?: string | undefined;
  /** Keyset pagination: the `cursor` of the previous page. */
  before?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

/** Newest first; the script is left out of lists (it can be 64 KiB). */
export async function listCommands(db: SqlExecutor, filter: ListFilter): Promise<Omit<Command, 'script'>[]> {
  const { deviceId, status, bulkJobId, before } = filter;
  return typed(db).selectFrom('commands')
    .select((eb) => [...COMMAND_COLUMNS.filter((column) => column !== 'script'), eb.fn<string>('left', ['script', sql.lit(200)]).as('script')])
    .where('organizationId', '=', filter.organizationId)
    .$if(deviceId !== undefined, (query) => query.where('deviceId', '=', deviceId!))
    .$if(status !== undefined, (query) => query.where('status', '=', anyText(status!)))
    .$if(bulkJobId !== undefined, (query) => query.where('bulkJobId', '=', bulkJobId!))
    .$if(before !== undefined, (query) => query.where((eb) =>
      sql<boolean>`(${eb.ref('createdAt')}, ${eb.ref('id')}) < (${before!.createdAt}::timestamptz, ${before!.id}::uuid)`))
    .orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(filter.limit)
    .$narrowType<CommandNarrowing>().execute();
}

/** Queued commands past their expiry become `expired` (the sweeper; a connecting device's go in `owedOnConnect`); returns their ids. */
export async function expireQueued(db: SqlExecutor): Promise<string[]> {
  const rows = await typed(db).updateTable('commands')
    .set({ status: sql.lit('expired'), finishedAt: sql<Date>`NOW()`, error: sql.lit(EXPIRED_ERROR) })
    .where('status', '=', sql.lit('queued')).where('expiresAt', '<=', sql<Date>`NOW()`)
    .returning('id').execute();
  return rows.map((row) => row.id);
}

/**
 * Claims queued commands for delivery (queued → sent), each for its own device, in one statement;
 * the status check makes each claim exclusive across instances. Each item's spec, in order, or
 * null where the command was not claimable (claimed elsewhere, expired, another device's).
 */
export async function claimQueuedMany(db: SqlExecutor, items: readonly { deviceId: string; id: string }[]): Promise<(CommandSpec | null)[]> {
  if (items.length === 0) return [];
  const ids = items.map((item) => item.id);
  const deviceIds = items.map((item) => item.deviceId);
  const rows = await typed(db).updateTable('commands')
    .set((eb) => ({ status: sql.lit('sent'), sentAt: sql<Date>`NOW()`, deliveryCount: eb('deliveryCount', '+', sql.lit(1)) }))
    .where(sql<boolean>`(id, device_id) IN (SELECT * FROM unnest(${ids}::uuid[], ${deviceIds}::uuid[]))`)
    .where('status', '=', sql.lit('queued')).where('expiresAt', '>', sql<Date>`NOW()`)
    .returning(SPEC_COLUMNS).$narrowType<SpecNarrowing>().execute();
  const claimed = new Map(rows.map((row) => [row.id, toSpec(row)]));
  return items.map((item) => claimed.get(item.id) ?? null);
}

/** What a device's stream owes it when it starts (see `owedOnConnect`). */
export interface Owed {
  /** Queued commands that expired while the device was away. */
  expired: string[];
  /** Commands sent before that may not have reached the agent; `cancel` when a cancel was asked meanwhile. */
  resend: { spec: CommandSpec; cancel: boolean }[];
  /** Queued commands claimed for this stream (queued → sent), oldest first. */
  claimed: CommandSpec[];
}

/**
 * Settles a device's unfinished commands when its stream starts, in one statement of three
 * updates on disjoint rows: queued ones past their expiry become `expired`; sent and running
 * ones are sent again (the socket may have dropped; the agent's record of executed ids keeps
 * them from running twice); queued ones are claimed. The status checks make each claim
 * exclusive across instances and sockets.
 */
export async function owedOnConnect(db: SqlExecutor, deviceId: string): Promise<Owed> {
  const rows = await typed(db)
    .with('expired', (q) => q.updateTable('commands')
      .set({ status: sql.lit('expired'), finishedAt: sql<Date>`NOW()`, error: sql.lit(EXPIRED_ERROR) })
      .where('deviceId', '=', deviceId).where('status', '=', sql.lit('queued')).where('expiresAt', '<=', sql<Date>`NOW()`)
      .returning(['id', 'createdAt']))
    .with('resent', (q) => q.updateTable('commands')
      .set((eb) => ({ deliveryCount: eb('deliveryCount', '+', sql.lit(1)) }))
      .where('deviceId', '=', deviceId).where('status', 'in', [sql.lit('sent'), sql.lit('running')])
      .returning((eb) => [...SPEC_COLUMNS, eb('cancelRequestedAt', 'is not', null).as('cancelRequested'), 'createdAt']))
    .with('claimed', (q) => q.updateTable('commands')
      .set((eb) => ({ status: sql.lit('sent'), sentAt: sql<Date>`NOW()`, deliveryCount: eb('deliveryCount', '+', sql.lit(1)) }))
      .where('deviceId', '=', deviceId).where('status', '=', sql.lit('queued')).where('expiresAt', '>', sql<Date>`NOW()`)
      .returning([...SPEC_COLUMNS, 'createdAt']))
    .selectFrom('resent')
    .select([sql.lit('resend').as('kind'), ...SPEC_COLUMNS, 'cancelRequested', 'createdAt'])
    .unionAll((eb) => eb.selectFrom('claimed').select([sql.lit('claimed').as('kind'), ...SPEC_COLUMNS, sql.lit(false).as('cancelRequested'), 'createdAt']))
    // Expired rows carry only their id: the spec columns are NULL (typed `never`, as nothing reads them).
    .unionAll((eb) => eb.selectFrom('expired').select([
      sql.lit('expired').as('kind'), 'id', sql<never>`NULL`.as('shell'), sql<never>`NULL`.as('interpreter'), sql<never>`NULL`.as('script'),
      sql<never>`NULL`.as('timeoutSec'), sql<never>`NULL::jsonb`.as('env'), sql.lit(false).as('cancelRequested'), 'createdAt',
    ]))
    .orderBy('createdAt').orderBy('id')
    .$narrowType<SpecNarrowing & { kind: 'expired' | 'resend' | 'claimed'; cancelRequested: boolean }>().execute();
  const owed: Owed = { expired: [], resend: [], claimed: [] };
  for (const { kind, cancelRequested, createdAt: _createdAt, ...row } of rows) {
    const spec = toSpec(row);
    if (kind === 'expired') owed.expired.push(row.id);
    else if (kind === 'resend') owed.resend.push({ spec, cancel: cancelRequested });
    else owed.claimed.push(spec);
  }
  return owed;
}

/** A report from a device about one of its commands. */
export interface DeviceReport { deviceId: string; commandId: string }

/** Reports as a table `u(command_id, device_id)`, from two `uuid[]` parameters. */
const reportsTable = (reports: readonly DeviceReport[]) =>
  sql<DeviceReport>`unnest(${reports.map((r) => r.commandId)}::uuid[], ${reports.map((r) => r.deviceId)}::uuid[])`.as<'u'>(sql`u(command_id, device_id)`);

/** sent → running for each command its agent says it started (one statement for a group of reports); returns the ids that moved. */
export async function markRunning(db: SqlExecutor, reports: readonly DeviceReport[]): Promise<Set<string>> {
  const rows = await typed(db).updateTable('commands as c')
    .from(reportsTable(reports))
    .set((eb) => ({ status: sql.lit('running'), startedAt: eb.fn.coalesce('c.startedAt', sql<Date>`NOW()`) }))
    .whereRef('c.id', '=', 'u.commandId').whereRef('c.deviceId', '=', 'u.deviceId').where('c.status', '=', sql.lit('sent'))
    .returning('c.id').execute();
  return new Set(rows.map((row) => row.id));
}

/** What an agent reports at a command's end. */
export interface AgentResult extends DeviceReport { status: AgentResultStatus; exitCode: number | null; error: string | null }

/**
 * The agents' results, one statement for a group of them; a cancel requested before a result
 * arrived wins over `failed`. No-op on a final row: only the commands that became final return.
 * `lastSeq` (highest stored chunk, -1 for none) lets live streams skip re-reading output they have seen.
 */
export async function finishFromAgent(db: SqlExecutor, results: readonly AgentResult[]): Promise<(Command & { lastSeq: number })[]> {
  const table = sql<AgentResult>`unnest(${results.map((r) => r.commandId)}::uuid[], ${results.map((r) => r.deviceId)}::uuid[],
    ${results.map((r) => r.status)}::text[], ${results.map((r) => r.exitCode)}::int[], ${results.map((r) => r.error)}::text[])`
    .as<'u'>(sql`u(command_id, device_id, status, exit_code, error)`);
  return typed(db).updateTable('commands as c')
    .from(table)
    .set((eb) => ({
      status: sql<string>`CASE WHEN ${eb.ref('c.cancelRequestedAt')} IS NOT NULL AND ${eb.ref('u.status')} IN ('failed', 'cancelled') THEN 'cancelled' ELSE ${eb.ref('u.status')} END`,
      exitCode: eb.ref('u.exitCode'), error: eb.ref('u.error'), finishedAt: sql<Date>`NOW()`, startedAt: eb.fn.coalesce('c.startedAt', sql<Date>`NOW()`),
    }))
    .whereRef('c.id', '=', 'u.commandId').whereRef('c.deviceId', '=', 'u.deviceId').where('c.status', 'in', [sql.lit('sent'), sql.lit('running')])
    .returning((eb) => [
      ...COMMAND_COLUMNS.map((column) => `c.${column}` as const),
      eb.fn.coalesce(
        eb.selectFrom('commandOutput as o').select((inner) => inner.fn.max('o.seq').as('seq')).whereRef('o.commandId', '=', 'c.id').$asScalar(),
        sql.lit(-1),
      ).as('lastSeq'),
    ])
    .$narrowType<CommandNarrowing & { lastSeq: number }>().execute();
}

/** Commands whose agent never reported, long after their timeout: failed so they do not hang forever. */
export async function failUnreported(db: SqlExecutor, graceSec: number): Promise<string[]> {
  const rows = await typed(db).updateTable('commands')
    .set({ status: sql.lit('timed_out'), finishedAt: sql<Date>`NOW()`, error: sql.lit('The agent did not report a result within the timeout') })
    .where('status', 'in', [sql.lit('sent'), sql.lit('running')])
    .where((eb) => sql<boolean>`COALESCE(${eb.ref('startedAt')}, ${eb.ref('sentAt')}) + make_interval(secs => ${eb.ref('timeoutSec')} + ${graceSec}) < NOW()`)
    .returning('id').execute();
  return rows.map((row) => row.id);
}

/**
 * Asks a command to stop: one still queued is cancelled at once, a sent or running one is only
 * marked (its agent reports `cancelled`). Returns the row's result fields after the change.
 */
export async function markCancelRequested(tx: SqlExecutor, id: string) {
  return typed(tx).updateTable('commands')
    .set((eb) => {
      // Every CASE reads the row as it was: a queued command is the one cancelled here.
      const queued = sql<boolean>`${eb.ref('status')} = 'queued'`;
      return {
        cancelRequestedAt: eb.fn.coalesce('cancelRequestedAt', sql<Date>`NOW()`),
        status: sql<string>`CASE WHEN ${queued} THEN 'cancelled' ELSE ${eb.ref('status')} END`,
        finishedAt: sql<Date | null>`CASE WHEN ${queued} THEN NOW() ELSE ${eb.ref('finishedAt')} END`,
        error: sql<string | null>`CASE WHEN ${queued} THEN 'Cancelled before delivery' ELSE ${eb.ref('error')} END`,
      };
    })
    .where('id', '=', id)
    .returning(['id', 'status', 'deviceId', 'exitCode', 'error', 'outputBytes', 'outputTruncated'])
    .$narrowType<{ status: CommandStatus; outputBytes: number; outputTruncated: boolean }>().executeTakeFirstOrThrow();
}

/** Stored output after `afterSeq`, in order. */
export async function selectOutput(db: SqlExecutor, commandId: string, afterSeq: number, limit: number): Promise<OutputChunk[]> {
  return typed(db).selectFrom('commandOutput').select(['seq', 'stream', 'data'])
    .where('commandId', '=', commandId).where('seq', '>', afterSeq).orderBy('seq').limit(limit)
    .$narrowType<{ stream: OutputChunk['stream'] }>().execute();
}

/**
 * A command's result fields and its stored output after `afterSeq`, from one snapshot (one
 * statement). Another organization's command (organizationId null = any) finds nothing.
 */
export async function selectProgress(db: SqlExecutor, organizationId: string | null, commandId: string, afterSeq: number, limit: number) {
  return typed(db).selectFrom('commands as c')
    .select((eb) => {
      const page = eb.selectFrom('commandOutput').select(['seq', 'stream', 'data'])
        .whereRef('commandId', '=', 'c.id').where('seq', '>', afterSeq).orderBy('seq').limit(limit);
      return [
        'c.status', 'c.exitCode', 'c.error', 'c.outputBytes', 'c.outputTruncated',
        sql<OutputChunk[]>`COALESCE((SELECT json_agg(o ORDER BY o.seq) FROM ${page.as('o')}), '[]'::json)`.as('chunks'),
      ];
    })
    .where('c.id', '=', commandId)
    .$if(organizationId !== null, (query) => query.where('c.organizationId', '=', organizationId!))
    .$narrowType<CommandResult>().executeTakeFirst();
}

/** The row's output accounting for an append: which of `seqs` are stored already, and the highest stored (-1: none). */
export async function selectOutputState(db: SqlExecutor, deviceId: string, commandId: string, seqs: number[], lock: boolean) {
  return typed(db).selectFrom('commands')
    .select((eb) => [
      'status', 'outputBytes', 'outputTruncated as truncated',
      sql<number[]>`ARRAY(${eb.selectFrom('commandOutput').select('seq').where('commandId', '=', commandId).where('seq', '=', anyInt(seqs))})`.as('existing'),
      eb.fn.coalesce(
        eb.selectFrom('commandOutput').select((inner) => inner.fn.max('seq').as('seq')).where('commandId', '=', commandId).$asScalar(),
        sql.lit(-1),
      ).as('maxSeq'),
    ])
    .where('id', '=', commandId).where('deviceId', '=', deviceId)
    .$if(lock, (query) => query.forUpdate())
    .$narrowType<{ outputBytes: number; truncated: boolean; maxSeq: number }>().executeTakeFirst();
}

/** One command's output write: its accounting as the writer last saw it, and what to set and insert. */
export interface OutputWrite extends DeviceReport {
  expected: { outputBytes: number; truncated: boolean };
  next: { outputBytes: number; truncated: boolean; stored: OutputChunk[] };
}

/**
 * For each write, sets the row's accounting (and `running`) only if it still is `expected`, and
 * inserts the chunks only when it was: a compare-and-set, one statement for a group of commands.
 * Returns the ids written; a write missing there lost to another writer.
 */
export async function writeOutputIfUnchanged(db: SqlExecutor, writes: readonly OutputWrite[]): Promise<Set<string>> {
  // The group travels as one JSON parameter, however many commands and chunks.
  const table = sql<{ commandId: string; deviceId: string; expectedBytes: number; expectedTruncated: boolean; outputBytes: number; outputTruncated: boolean; chunks: unknown }>`
    jsonb_to_recordset(${JSON.stringify(writes.map((w) => ({
      command_id: w.commandId, device_id: w.deviceId, expected_bytes: w.expected.outputBytes, expected_truncated: w.expected.truncated,
      output_bytes: w.next.outputBytes, output_truncated: w.next.truncated, chunks: w.next.stored,
    })))}::jsonb)`.as<'w'>(sql`w(command_id uuid, device_id uuid, expected_bytes int, expected_truncated boolean, output_bytes int, output_truncated boolean, chunks jsonb)`);
  const rows = await typed(db)
    .with('updated', (q) => q.updateTable('commands as c')
      .from(table)
      .set((eb) => ({
        outputBytes: eb.ref('w.outputBytes'), outputTruncated: eb.ref('w.outputTruncated'),
        status: sql.lit('running'), startedAt: eb.fn.coalesce('c.startedAt', sql<Date>`NOW()`),
      }))
      .whereRef('c.id', '=', 'w.commandId').whereRef('c.deviceId', '=', 'w.deviceId').where('c.status', 'in', [sql.lit('sent'), sql.lit('running')])
      .whereRef('c.outputBytes', '=', 'w.expectedBytes').whereRef('c.outputTruncated', '=', 'w.expectedTruncated')
      .returning(['c.id', 'w.chunks']))
    .with('inserted', (q) => q.insertInto('commandOutput').columns(['commandId', 'seq', 'stream', 'data'])
      .expression((eb) => eb.selectFrom([
        'updated as u',
        sql<OutputChunk>`jsonb_to_recordset(u.chunks)`.as<'o'>(sql`o(seq int, stream text, data text)`),
      ]).select(['u.id', 'o.seq', 'o.stream', 'o.data']))
      .onConflict((conflict) => conflict.doNothing()))
    .selectFrom('updated').select('id')
    .execute();
  return new Set(rows.map((row) => row.id));
}

/** The CLI's device lookup: by id, or by name in any case, optionally within an organization by id or name; at most two. */
export async function selectDeviceIdsByRef(db: SqlExecutor, ref: { id: string } | { name: string }, org?: { id: string } | { name: string }): Promise<string[]> {
  const rows = await typed(db).selectFrom('devices as d').innerJoin('organizations as o', 'o.id', 'd.organizationId')
    .select('d.id').where('d.decommissionedAt', 'is', null)
    .where((eb) => ('id' in ref ? eb('d.id', '=', sql<string>`${ref.id}::uuid`) : eb(eb.fn('lower', ['d.name']), '=', sql<string>`lower(${ref.name})`)))
    .$if(org !== undefined, (query) => query.where((eb) => ('id' in org! ? eb('o.id', '=', sql<string>`${org.id}::uuid`) : eb(eb.fn('lower', ['o.name']), '=', sql<string>`lower(${org!.name})`))))
    .limit(sql.lit(2)).execute();
  return rows.map((row) => row.id);
}

/** A live device of the organization (null = any) with what a command to it needs. */
export async function selectTargetDevice(tx: SqlExecutor, deviceId: string, organizationId: string | null) {
  return typed(tx).selectFrom('devices')
    .select((eb) => ['organizationId', 'osType', 'name', eb('approvalState', '=', sql.lit('approved')).as('approved')])
    .where('id', '=', deviceId).where('decommissionedAt', 'is', null)
    .$if(organizationId !== null, (query) => query.where('organizationId', '=', organizationId!))
    // Held to the caller's commit: a decommission (an UPDATE of the row) waits, so it sees what was opened on the device.
    .forShare()
    .$narrowType<{ organizationId: string; approved: boolean }>().executeTakeFirst();
}

/** Whether the device is the organization's (retired ones too: their commands stay listed). */
export async function isOrganizationDevice(db: SqlExecutor, organizationId: string, deviceId: string): Promise<boolean> {
  const row = await typed(db).selectFrom('devices').select(sql.lit(1).as('one'))
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
  return row !== undefined;
}
