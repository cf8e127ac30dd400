import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PHASES, runPhase, type PhaseContext, type PhaseName, type PhaseResult } from './phases.ts';
import { say, step } from './processes.ts';

/**
 * Which phases may run at the same time: groups run one after another; within a group, lanes run
 * side by side and each lane's phases in order. The main suite is CPU-bound (its two workers keep
 * the two cores about 87 % busy); beside it runs one lane of phases that mostly wait or are short:
 * the fault suite waits out the outages it causes, the installers test waits on dpkg and an
 * agent's update cycle, then the MSI, typecheck and lint. One lane, not several, so main shares
 * the cores with one more process at a time. (For several runs the main phase ran every fault
 * file as well, beside its own tests, by accident, and passed: the fault suite tolerates main's
 * load, and main tolerates it.) CI's wall time must stay under 25 minutes.
 */
export const SCHEDULE: readonly (readonly (readonly PhaseName[])[])[] = [
  [['main'], ['faults', 'installers', 'msi', 'typecheck', 'lint']],
];

/** The chosen phases' groups, with empty lanes and groups left out. */
export function plan(chosen: readonly PhaseName[]): PhaseName[][][] {
  return SCHEDULE
    .map((group) => group.map((lane) => lane.filter((name) => chosen.includes(name))).filter((lane) => lane.length > 0))
    .filter((group) => group.length > 0);
}

/**
 * Runs one group: the first lane on the terminal, the others into log files printed whole when
 * the group ends. `stopped` is asked before each phase, so Ctrl-C starts nothing new.
 */
export async function runGroup(group: readonly (readonly PhaseName[])[], context: PhaseContext, stopped: () => boolean): Promise<PhaseResult[]> {
  const logs: string[] = [];
  const lanes = group.map(async (lane, index) => {
    const logFile = index === 0 ? undefined : join(context.tmp, `${lane.join('-')}.log`);
    if (logFile) {
      logs.push(logFile);
      say(`(${lane.join(', then ')} runs alongside; its output follows when the group ends)`);
    }
    const results: PhaseResult[] = [];
    for (const name of lane) {
      if (stopped()) break;
      results.push(await runPhase(name, { ...context, ...(logFile ? { logFile } : {}) }));
    }
    return results;
  });
  const results = (await Promise.all(lanes)).flat();
  for (const log of logs) {
    step(`Output of ${log.slice(log.lastIndexOf('/') + 1, -'.log'.length).replace('-', ', ')}`);
    process.stdout.write(readLog(log));
    rmSync(log, { force: true });
  }
  return results.sort((a, b) => PHASES.indexOf(a.name) - PHASES.indexOf(b.name));
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '(no output)\n';
  }
}
