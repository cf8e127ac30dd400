import { AGENT_VERSION } from '@ninjait/shared';
import { readConfig } from '../../config/file.ts';
import { readOutboxStats } from '../../outbox/read-stats.ts';
import type { OutboxStats } from '../../outbox/types.ts';
import { COMMAND_OPTIONS, GLOBAL_OPTIONS, parseCommand } from '../args.ts';
import { commonSettings } from '../common.ts';
import { EXIT, type CliIo } from '../io.ts';

/** `ninjait-agent status [--json]`: reads the local files only (never the server, never writes). */
export function statusCommand(argv: string[], io: CliIo): number {
  const values = parseCommand({ ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS.status }, argv);
  const s = commonSettings(values, io.env);
  const config = readConfig(s.paths.configFile);
  const outbox = readOutboxStats(s.paths.outboxFile);
  const report = {
    agentVersion: AGENT_VERSION,
    enrolled: config !== null,
    server: config?.server ?? null,
    deviceId: config?.deviceId ?? null,
    organizationId: config?.organizationId ?? null,
    intervalMs: s.intervalMs ?? config?.intervalMs ?? null,
    enrolledAt: config ? new Date(config.enrolledAt).toISOString() : null,
    configFile: s.paths.configFile,
    outboxFile: s.paths.outboxFile,
    outbox,
  };
  if (values.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return config ? EXIT.ok : EXIT.notEnrolled;
  }
  const lines = [`NinjaIT agent ${AGENT_VERSION}`, `Config:        ${report.configFile}`];
  if (config) {
    lines.push(
      `Enrolled:      yes, ${report.enrolledAt}`,
      `Server:        ${config.server}`,
      `Device:        ${config.deviceId}`,
      `Organization:  ${config.organizationId}`,
      `Interval:      ${report.intervalMs} ms`,
    );
  } else {
    lines.push('Enrolled:      no (not enrolled). Run: ninjait-agent enroll --server URL --token TOKEN');
  }
  lines.push(`Outbox:        ${report.outboxFile}`, ...outboxLines(outbox));
  io.stdout(`${lines.join('\n')}\n`);
  return config ? EXIT.ok : EXIT.notEnrolled;
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
