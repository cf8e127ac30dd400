import { AGENT_VERSION } from '@ninjait/shared';
import { readConfig } from '../../config/file.ts';
import { resolvePaths } from '../../config/paths.ts';
import { readServerPins, showPin } from '../../config/server-pins.ts';
import { readLinkState, type LinkState } from '../../link/refusal.ts';
import { readOutboxStats } from '../../outbox/read-stats.ts';
import type { OutboxStats } from '../../outbox/types.ts';
import { COMMAND_OPTIONS, GLOBAL_OPTIONS, parseCommand } from '../args.ts';
import { commonSettings, type CommonSettings } from '../common.ts';
import { findEnrolledDir, quickStartDataDirs } from '../find-data-dir.ts';
import { EXIT, type CliIo } from '../io.ts';

/** `ninjait-agent status [--json]`: reads the local files only (never the server, never writes). */
export function statusCommand(argv: string[], io: CliIo): number {
  const values = parseCommand({ ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS.status }, argv);
  const s = commonSettings(values, io.env);
  const explicit = values['data-dir'] !== undefined || s.env.NINJAIT_DATA_DIR !== undefined;
  const { paths, lookedIn, found } = locate(s, explicit);
  const config = readConfig(paths.configFile);
  const outbox = safely(() => readOutboxStats(paths.outboxFile));
  const link = readLinkState(paths.linkStateFile);
  const pins = config ? safely(() => readServerPins(paths.serverPinsFile)) : null;
  const report = {
    agentVersion: AGENT_VERSION,
    enrolled: config !== null,
    server: config?.server ?? null,
    serverPins: pins?.map(showPin) ?? [],
    deviceId: config?.deviceId ?? null,
    organizationId: config?.organizationId ?? null,
    intervalMs: s.intervalMs ?? config?.intervalMs ?? null,
    enrolledAt: config ? new Date(config.enrolledAt).toISOString() : null,
    credentialsRefused: link?.credentialsRefused ? { ...link.credentialsRefused, since: new Date(link.credentialsRefused.since).toISOString(), lastAt: new Date(link.credentialsRefused.lastAt).toISOString() } : null,
    dataDir: paths.dataDir,
    foundQuickStartAgent: found,
    lookedIn,
    configFile: paths.configFile,
    outboxFile: paths.outboxFile,
    outbox,
  };
  if (values.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return config ? EXIT.ok : EXIT.notEnrolled;
  }
  const lines = [`NinjaIT agent ${AGENT_VERSION}`, `Config:        ${report.configFile}${found ? ' (the quick start\'s local agent; --data-dir picks another)' : ''}`];
  if (config) {
    lines.push(
      `Enrolled:      yes, ${report.enrolledAt}`,
      `Server:        ${config.server}`,
      ...(config.server.startsWith('https:') ? [`Server key:    ${pins?.length ? report.serverPins.join(', ') : 'not pinned (enrolled by an older agent); enroll again to pin it'}`] : []),
      `Device:        ${config.deviceId}`,
      `Organization:  ${config.organizationId}`,
      `Interval:      ${report.intervalMs} ms`,
      ...refusalLines(link),
    );
  } else {
    lines.push(
      'Enrolled:      no (not enrolled). Run: ninjait-agent enroll --server URL --token TOKEN',
      ...(lookedIn.length > 1 ? [`Looked in:     ${lookedIn.join(', ')}`] : []),
      'Elsewhere?     point at the agent\'s folder with --data-dir DIR (or NINJAIT_DATA_DIR=DIR)',
    );
  }
  lines.push(`Outbox:        ${report.outboxFile}`, ...outboxLines(outbox));
  io.stdout(`${lines.join('\n')}\n`);
  return config ? EXIT.ok : EXIT.notEnrolled;
}

/**
 * The folder to report on: the one asked for; else the platform's default, unless it holds no
 * enrollment and the quick start's local agent exists (people who ran `npm start` mean that one).
 */
function locate(s: CommonSettings, explicit: boolean) {
  if (explicit) return { paths: s.paths, lookedIn: [s.paths.configDir], found: false };
  const candidates = quickStartDataDirs(process.cwd());
  if (readConfigOrNull(s.paths.configFile)) return { paths: s.paths, lookedIn: [s.paths.configDir], found: false };
  const dir = findEnrolledDir(candidates);
  const lookedIn = [s.paths.configDir, ...candidates];
  return dir ? { paths: resolvePaths({ dataDir: dir }), lookedIn, found: true } : { paths: s.paths, lookedIn, found: false };
}

function readConfigOrNull(file: string) {
  return safely(() => readConfig(file));
}

/** `status` reports what it can: one unreadable file must not hide the rest. */
function safely<T>(read: () => T | null): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

function refusalLines(link: LinkState | null): string[] {
  const refused = link?.credentialsRefused;
  if (!refused) return [];
  return [
    `Connection:    REFUSED: the server refuses this device's credentials since ${new Date(refused.since).toISOString()}`,
    `               (last ${new Date(refused.lastAt).toISOString()}: ${refused.reason}).`,
    '               The device was removed or its secret replaced: enroll again with a new token',
    '               (ninjait-agent enroll --server URL --token TOKEN). Data stays buffered meanwhile.',
  ];
}

function outboxLines(o: OutboxStats | null): string[] {
  if (!o) return ['Buffered:      nothing yet (no outbox file)'];
  const oldest = o.oldestCollectedAt === null ? '' : `, oldest from ${new Date(o.oldestCollectedAt).toISOString()}`;
  return [
    `Buffered:      ${o.bufferedRecords} records, ${formatBytes(o.bufferedBytes)}${oldest}`,
    `Dropped:       ${o.droppedTotal}`,
    `Next seq:      ${o.nextSeq}`,
  ];
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
