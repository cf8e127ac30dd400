import { rmSync } from 'node:fs';
import { PROTOCOL_VERSION, type EnrollInput, type EnrollOutput, type Inventory } from '@ninjait/shared';
import { collectInventory } from './collect/inventory.ts';
import { readConfig, writeConfig, type AgentConfig } from './config/file.ts';
import { secureAgentPaths, type AgentPaths } from './config/paths.ts';
import { writeServerPins } from './config/server-pins.ts';
import { requestEnrollment } from './link/enroll-client.ts';
import type { FetchLike } from './link/node-fetch.ts';
import { assertTransportAllowed, serverTransport } from './link/server-transport.ts';
import type { Logger } from './log.ts';
import { openOutbox } from './outbox/outbox.ts';
import { DEFAULT_BUFFER_MAX_MB } from './defaults.ts';
import { ensurePrivateDatabase } from './util/private-files.ts';

export interface EnrollAgentOptions {
  server: string;
  token: string;
  paths: AgentPaths;
  log: Logger;
  bufferMaxMb?: number;
  /** https: trust exactly these keys (SHA-256 SPKI, base64) instead of the CAs. */
  pins?: readonly string[];
  /** https without pins: PEM CA certificates that replace the system's. */
  ca?: Buffer;
  /** Allow plain http:// beyond loopback. */
  insecure?: boolean;
  /** Injections for tests. */
  inventory?: () => Promise<Inventory>;
  request?: (server: string, input: EnrollInput, fetchImpl: FetchLike) => Promise<EnrollOutput>;
}

export interface Enrolled {
  config: AgentConfig;
  enrollment: EnrollOutput;
  previous: AgentConfig | null;
  /** The server keys now pinned (empty for http://). */
  pins: string[];
}

/**
 * Enrolls (or re-enrolls) this machine: collects the inventory, trades the token for device
 * credentials, continues the outbox's sequence where the server says, then writes the config
 * and pins the server's key. Buffered records are kept: for the same device, those the server
 * already logged are trimmed; for a new identity they are renumbered from `nextSeq` so none is
 * taken for a replay.
 *
 * Trust: http:// only to loopback unless `insecure`. https:// with `pins` accepts exactly those
 * keys; without, the certificate must chain to `ca` or the system's CAs, and the key it carries is
 * pinned. Enrolling again replaces the pins: it is the way back after an unannounced key change.
 */
export async function enrollAgent(opts: EnrollAgentOptions): Promise<Enrolled> {
  const { log, paths } = opts;
  const server = opts.server.replace(/\/+$/, '');
  assertTransportAllowed(server, opts.insecure ?? false);
  const inventory = await (opts.inventory ?? collectInventory)();
  log.debug({ machineKey: inventory.machineKey, hostname: inventory.hostname }, 'inventory collected');
  let previous: AgentConfig | null = null;
  try {
    previous = readConfig(paths.configFile);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'ignoring the unreadable previous config');
  }
  const given = [...(opts.pins ?? [])];
  let seen: string | null = null;
  const transport = serverTransport(server, { pins: () => given, ca: opts.ca, onVerified: (pin) => void (seen = pin) });
  const input: EnrollInput = { token: opts.token, inventory, protocolVersion: PROTOCOL_VERSION, ...currentCredentials(previous, server) };
  const enrollment = await (opts.request ?? ((url, body, fetchImpl) => requestEnrollment(url, body, { fetch: fetchImpl })))(server, input, transport.fetch);

  secureAgentPaths(paths);
  ensurePrivateDatabase(paths.outboxFile);
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
  const pins = new URL(server).protocol === 'https:' ? (given.length > 0 ? given : seen ? [seen] : []) : [];
  // Pins first: a config that points at an https server always finds its key pinned.
  writeServerPins(paths.serverPinsFile, pins);
  writeConfig(paths.configFile, config);
  // Whatever the old credentials went through is over.
  rmSync(paths.linkStateFile, { force: true });
  log.info({ deviceId: config.deviceId, reused: enrollment.reused, nextSeq: enrollment.nextSeq, status: enrollment.status ?? 'active' }, 'enrolled');
  return { config, enrollment, previous, pins };
}

/**
 * The credentials this machine holds, as proof for the server that it is the device it knows
 * (it then keeps the device instead of holding a new one for approval). Sent only to the server
 * they belong to: another server must never learn this device's secret.
 */
function currentCredentials(previous: AgentConfig | null, server: string): Pick<EnrollInput, 'currentCredentials'> {
  if (!previous || new URL(previous.server).origin !== new URL(server).origin) return {};
  return { currentCredentials: { deviceId: previous.deviceId, deviceSecret: previous.deviceSecret } };
}
