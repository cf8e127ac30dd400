import type { Logger } from '../log.ts';
import type { AgentClient } from '../exec/types.ts';
import { collectSoftware, type SoftwareSnapshot } from './collect.ts';
import { startPatchRunner } from './patch-runner.ts';
import { createInventoryReporter, packageDatabaseSignal } from './reporter.ts';

export interface SoftwareInventoryOptions {
  /** Replaces the OS collectors (tests). */
  collect?: () => Promise<SoftwareSnapshot>;
  /** Extra apt options for the simulation and installs (tests point apt at their own lists). */
  aptOptions?: readonly string[];
  intervalMs?: number;
  changeCheckMs?: number;
  patchPollMs?: number;
  /** May the agent restart the machine when a deployment's reboot policy asks (NINJAIT_ALLOW_REBOOT)? Default false. */
  allowReboot?: boolean;
  /**
   * The first inventory pass and patch check wait this long after start (default 30 s): the apt
   * simulation is the agent's heaviest probe and need not compete with enrollment and the first samples.
   */
  startDelayMs?: number;
}

export const SOFTWARE_START_DELAY_MS = 30_000;

/**
 * Starts the inventory reporter and the patch runner on the agent's socket. Nothing starts
 * sending before the link is up: calls wait in the tRPC client until it connects.
 */
export function startSoftwareInventory(options: SoftwareInventoryOptions & { client: AgentClient; dataDir: string; log: Logger }) {
  const { client, log } = options;
  const aptOptions = options.aptOptions ?? [];
  const reporter = createInventoryReporter({
    dataDir: options.dataDir, log,
    collect: options.collect ?? (() => collectSoftware({ aptOptions })),
    sender: { send: (report) => client.agent.inventoryReport.mutate(report) },
    intervalMs: options.intervalMs, changeCheckMs: options.changeCheckMs,
    changeSignal: process.platform === 'linux' ? packageDatabaseSignal : undefined,
  });
  const startDelayMs = options.startDelayMs ?? SOFTWARE_START_DELAY_MS;
  reporter.start(startDelayMs);
  const patches = startPatchRunner({
    log, aptOptions, pollMs: options.patchPollMs, startDelayMs, allowReboot: options.allowReboot ?? false,
    api: {
      work: () => client.agent.patchWork.query(),
      started: (deploymentId) => client.agent.patchStarted.mutate({ deploymentId }),
      progress: (deploymentId, lines) => client.agent.patchProgress.mutate({ deploymentId, lines }),
      result: (deploymentId, results) => client.agent.patchResult.mutate({ deploymentId, results }),
    },
    afterRun: () => reporter.refresh(),
  });
  return {
    reporter,
    patches,
    async stop() {
      await patches.stop();
      await reporter.stop();
    },
  };
}
