import { mkdirSync } from 'node:fs';
import type { EnrollInput, EnrollOutput, Inventory } from '@ninjait/shared';
import { collectInventory } from './collect/inventory.ts';
import { readConfig, writeConfig, type AgentConfig } from './config/file.ts';
import type { AgentPaths } from './config/paths.ts';
import { requestEnrollment } from './link/enroll-client.ts';
import type { Logger } from './log.ts';
import { openOutbox } from './outbox/outbox.ts';
import { DEFAULT_BUFFER_MAX_MB } from './defaults.ts';

export interface EnrollAgentOptions {
  server: string;
  token: string;
  paths: AgentPaths;
  log: Logger;
  bufferMaxMb?: number;
  /** Injections for tests. */
  inventory?: () => Promise<Inventory>;
  request?: (server: string, input: EnrollInput) => Promise<EnrollOutput>;
}

/**
 * Enrolls (or re-enrolls) this machine: collects the inventory, trades the token for device
 * credentials, continues the outbox's sequence where the server says, then writes the config.
 * Buffered records are kept: for the same device, those the server already logged are
 * trimmed; for a new identity they are renumbered from `nextSeq` so none is taken for a replay.
 */
export async function enrollAgent(opts: EnrollAgentOptions): Promise<{ config: AgentConfig; enrollment: EnrollOutput; previous: AgentConfig | null }> {
  const { log, paths } = opts;
  const inventory = await (opts.inventory ?? collectInventory)();
  log.debug({ machineKey: inventory.machineKey, hostname: inventory.hostname }, 'inventory collected');
  let previous: AgentConfig | null = null;
  try {
    previous = readConfig(paths.configFile);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'ignoring the unreadable previous config');
  }
  const server = opts.server.replace(/\/+$/, '');
  const enrollment = await (opts.request ?? requestEnrollment)(server, { token: opts.token, inventory });

  mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  const outbox = openOutbox({ file: paths.outboxFile, bufferMaxMb: opts.bufferMaxMb ?? DEFAULT_BUFFER_MAX_MB });
  try {
    const newIdentity = !enrollment.reused || (previous !== null && previous.deviceId !== enrollment.deviceId);
    outbox.seed(enrollment.nextSeq, { resequence: newIdentity });
  } finally {
    outbox.close();
  }
  const config: AgentConfig = {
    server,
    deviceId: enrollment.deviceId,
    organizationId: enrollment.organizationId,
    deviceSecret: enrollment.deviceSecret,
    intervalMs: enrollment.intervalMs,
    enrolledAt: Date.now(),
  };
  writeConfig(paths.configFile, config);
  log.info({ deviceId: config.deviceId, reused: enrollment.reused, nextSeq: enrollment.nextSeq }, 'enrolled');
  return { config, enrollment, previous };
}
