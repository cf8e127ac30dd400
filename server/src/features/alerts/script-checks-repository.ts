import { sql } from 'kysely';
import { secondsAgo, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { MAX_CHECK_OUTPUT } from './check-pattern.ts';

/**
 * Every query of script checks: the rules' schedule, the checks in flight and their results.
 * Typed with Kysely; each function is one statement unless said.
 */

/** A claim older than this with no command was left by a server that stopped before starting the script. */
const STALE_CLAIM_SEC = 120;

/** Output chunks read per check: enough for MAX_CHECK_OUTPUT characters without reading a chatty script's whole log. */
const OUTPUT_CHUNKS = 256;

/** Commands in one of these states have finished: their outcome is final. */
const FINAL_COMMAND_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled', 'expired'].map((status) => sql.lit(status));

/**
 * Moves a script-check rule to its next time, only if it still has the time it was read with
 * (null: never run, or its condition just changed): of two instances that read it due, one runs it.
 */
export async function advanceCheckRule(db: SqlExecutor, ruleId: string, dueAt: Date | null, everySec: number): Promise<boolean> {
  const result = await typed(db).updateTable('alertRules')
    .set({ nextCheckAt: sql<Date>`NOW() + make_interval(secs => ${everySec})` })
    .where('id', '=', ruleId).where((eb) => eb.ref('enabled'))
    .where((eb) => (dueAt === null
      ? eb('nextCheckAt', 'is', null)
      // Compared at millisecond precision: that is what a JavaScript Date read back holds.
      : eb(eb.fn('date_trunc', [sql.lit('milliseconds'), 'nextCheckAt']), '=', eb.fn('date_trunc', [sql.lit('milliseconds'), sql<Date>`${dueAt}::timestamptz`]))))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The rule's enrolled, approved devices (not excluded) that it may check; the scope is applied by the caller. */
export async function checkableDevices(db: SqlExecutor, organizationId: string, excluded: readonly string[]): Promise<string[]> {
  const rows = await typed(db).selectFrom('devices').select('id')
    .where('organizationId', '=', organizationId).where('decommissionedAt', 'is', null).where('approvalState', '=', sql.lit('approved'))
    .where((eb) => eb.not(eb('id', '=', sql<string>`ANY(${excluded}::uuid[])`)))
    .orderBy('id').execute();
  return rows.map((row) => row.id);
}

/**
 * Claims the next check of a rule on a device: one in flight per rule and device, so a device
 * that does not answer is not sent a pile of them. Clears a claim a crash left without a command.
 * Two statements.
 */
export async function claimCheck(db: SqlExecutor, ruleId: string, deviceId: string): Promise<boolean> {
  await typed(db).deleteFrom('alertScriptChecks')
    .where('ruleId', '=', ruleId).where('deviceId', '=', deviceId).where('commandId', 'is', null)
    .where('startedAt', '<', secondsAgo(STALE_CLAIM_SEC))
    .execute();
  const result = await typed(db).insertInto('alertScriptChecks').values({ ruleId, deviceId })
    .onConflict((conflict) => conflict.doNothing()).executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function setCheckCommand(db: SqlExecutor, ruleId: string, deviceId: string, commandId: string): Promise<void> {
  await typed(db).updateTable('alertScriptChecks').set({ commandId }).where('ruleId', '=', ruleId).where('deviceId', '=', deviceId).execute();
}

export async function dropCheck(db: SqlExecutor, ruleId: string, deviceId: string): Promise<void> {
  await typed(db).deleteFrom('alertScriptChecks').where('ruleId', '=', ruleId).where('deviceId', '=', deviceId).execute();
}

export interface FinishedCheck {
  ruleId: string;
  deviceId: string;
  commandId: string;
  status: string;
  exitCode: number | null;
  error: string | null;
  /** stdout and stderr in the order the device sent them, at most MAX_CHECK_OUTPUT characters. */
  output: string;
}

/** Checks whose command reached a final state, with its outcome and (bounded) output. */
export async function finishedChecks(db: SqlExecutor, limit: number): Promise<FinishedCheck[]> {
  return typed(db).selectFrom('alertScriptChecks as k').innerJoin('commands as c', 'c.id', 'k.commandId')
    .select((eb) => [
      'k.ruleId', 'k.deviceId', 'k.commandId', 'c.status', 'c.exitCode', 'c.error',
      eb.fn<string>('left', [
        eb.fn.coalesce(
          eb.selectFrom(
            eb.selectFrom('commandOutput').select(['seq', 'data']).whereRef('commandId', '=', 'c.id').orderBy('seq').limit(OUTPUT_CHUNKS).as('o'),
          ).select((inner) => inner.fn.agg<string>('string_agg', ['o.data', sql.lit('')]).orderBy('o.seq').as('text')).$asScalar(),
          sql.lit(''),
        ),
        eb.val(MAX_CHECK_OUTPUT),
      ]).as('output'),
    ])
    .where('c.status', 'in', FINAL_COMMAND_STATUSES)
    .orderBy('k.startedAt').limit(limit)
    .$narrowType<{ commandId: string }>().execute();
}

/** Takes a finished check off the in-flight list; false when another instance settled it first. */
export async function settleCheck(db: SqlExecutor, ruleId: string, deviceId: string, commandId: string): Promise<boolean> {
  const result = await typed(db).deleteFrom('alertScriptChecks')
    .where('ruleId', '=', ruleId).where('deviceId', '=', deviceId).where('commandId', '=', commandId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The latest check's result on its alert: exit code, output excerpt, when. */
export async function recordCheckOnAlert(db: SqlExecutor, alertId: string, result: { exitCode: number | null; output: string }): Promise<void> {
  await typed(db).updateTable('alerts')
    .set({ checkExitCode: result.exitCode, checkOutput: result.output.slice(0, 4_000), checkAt: sql<Date>`NOW()` })
    .where('id', '=', alertId).execute();
}

/** The rule's active alerts, by device. */
export async function activeAlertsOfRule(db: SqlExecutor, ruleId: string): Promise<{ id: string; deviceId: string }[]> {
  return typed(db).selectFrom('alerts').select(['id', 'deviceId'])
    .where('ruleId', '=', ruleId).where('state', '<>', sql.lit('resolved')).execute();
}
