import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { createGroupCommit } from '../../platform/group-commit.ts';
import type { EventPublisher } from '../events/index.ts';
import type { Publisher } from './events.ts';
import { commandFinished } from './finished-event.ts';
import type { OutputLedger } from './output-ledger.ts';
import { finishFromAgent, markRunning, writeOutputIfUnchanged, type AgentResult, type DeviceReport, type OutputWrite } from './repository.ts';

/**
 * Told of commands of bulk jobs that just became final, inside the statement's transaction when
 * there is one (so what follows them commits with the result); returns what to do after the commit.
 */
export type FinishedHook = (db: SqlExecutor, commandIds: string[]) => Promise<() => void>;

/** A result, with the output it carries as this instance's ledger plans its write (see `writeFromMark`). */
export type ResultReport = AgentResult & { output?: OutputWrite | undefined };

/**
 * Reports wait for no window: a single command's three reports add no delay (its output is seen
 * as soon as before), and under load the groups form while the previous one is written.
 */
const REPORT_GROUP_MS = 0;
/** Reports one statement carries at most. */
const REPORT_GROUP_MAX = 1_000;

export interface ReportGroupsDeps {
  db: RelationalStore;
  events: EventPublisher;
  publisher: Publisher;
  ledger: OutputLedger;
  /** Read at each group: the bulk-jobs feature sets its hook after the commands feature is built. */
  finished: () => FinishedHook | null;
}

/**
 * The agents' reports (started, output, result), each kind written as a group commit: reports of
 * many devices share one statement, and results one transaction with their events and their bulk
 * jobs' targets. A device's own reports come one after another (it waits for each answer), and a
 * group holds one report per command, so no statement sees a command twice.
 */
export function createReportGroups(deps: ReportGroupsDeps) {
  const { db, events, publisher, ledger } = deps;
  const byCommand = (report: DeviceReport) => report.commandId;
  const options = { key: byCommand, windowMs: REPORT_GROUP_MS, maxItems: REPORT_GROUP_MAX };

  const started = createGroupCommit(async (reports: readonly DeviceReport[]) => {
    const moved = await markRunning(db, reports);
    return reports.map((report) => moved.has(report.commandId));
  }, options);

  const output = createGroupCommit(async (writes: readonly OutputWrite[]) => {
    const written = await writeOutputIfUnchanged(db, writes);
    return writes.map((write) => written.has(write.commandId));
  }, options);

  /**
   * Results: each command's final row, its `command.finished` event and its bulk job's target
   * commit together, with the output a result carries written first (a quick command's). A result
   * whose output write missed (the row is not as the ledger said) is left unfinished and answered
   * `output-missed`: its caller stores the output the careful way, then sends the result alone.
   */
  const result = createGroupCommit(async (results: readonly ResultReport[]) => {
    const hook = deps.finished();
    const writes = results.flatMap((report) => (report.output ? [report.output] : []));
    const { finished, after, missed } = await db.transaction(async (tx) => {
      const written = writes.length > 0 ? await writeOutputIfUnchanged(tx, writes) : new Set<string>();
      const missed = new Set(writes.filter((write) => !written.has(write.commandId)).map((write) => write.commandId));
      const finishing = missed.size > 0 ? results.filter((report) => !missed.has(report.commandId)) : results;
      const rows = finishing.length > 0 ? await finishFromAgent(tx, finishing) : [];
      // The events commit with the results: a repeated report finds its row final and publishes nothing.
      await events.publishAll(tx, rows.map(commandFinished));
      const ofJobs = rows.filter((row) => row.bulkJobId !== null).map((row) => row.id);
      return { finished: rows, missed, after: hook && ofJobs.length > 0 ? await hook(tx, ofJobs) : null };
    });
    for (const report of results) if (!missed.has(report.commandId)) ledger.delete(report.commandId);
    // Viewers get the output before the result, as when it came in its own report.
    await Promise.all(writes.filter((write) => !missed.has(write.commandId) && write.next.stored.length > 0)
      .map((write) => publisher.output(write.commandId, { type: 'chunks', chunks: write.next.stored })));
    await Promise.all(finished.map((row) => publisher.result(row)));
    after?.();
    const accepted = new Set(finished.map((row) => row.id));
    return results.map((report): boolean | 'output-missed' => (missed.has(report.commandId) ? 'output-missed' : accepted.has(report.commandId)));
  }, options);

  return {
    /** sent → running; resolves with whether the command moved. */
    started,
    /** A batch of output written if the row is as the writer last saw it; resolves with whether it was. */
    output,
    /** The result recorded; resolves with whether the command became final by it, or `output-missed` (nothing written). */
    result,
  };
}
