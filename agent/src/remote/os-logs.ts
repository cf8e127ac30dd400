import { open } from 'node:fs/promises';
import type { RemoteOp, RemoteResult } from '@ninjait/shared';
import { RemoteFailure } from './errors.ts';
import { runTool } from './run-tool.ts';

type Op<K extends RemoteOp['kind']> = Extract<RemoteOp, { kind: K }>;
type LogRow = RemoteResult<'logs.query'>['entries'][number];

const PRIORITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
/** Lines read before filtering: a filter looks further back than the number of lines it returns. */
const SCAN_FACTOR = 20;
const cut = (s: unknown, n: number) => (typeof s === 'string' ? s : Array.isArray(s) ? Buffer.from(s as number[]).toString('utf8') : String(s ?? '')).slice(0, n);

/** `journalctl -o json` lines. */
export function parseJournal(text: string): LogRow[] {
  return text.split('\n').filter(Boolean).flatMap((line) => {
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      const micros = Number(e.__REALTIME_TIMESTAMP);
      return [{
        time: Number.isFinite(micros) ? new Date(micros / 1000).toISOString() : '', level: PRIORITIES[Number(e.PRIORITY)] ?? 'info',
        source: cut(e.SYSLOG_IDENTIFIER ?? e._SYSTEMD_UNIT ?? e._COMM ?? '', 256), message: cut(e.MESSAGE, 8192),
      }];
    } catch {
      return [];
    }
  });
}

/** `log show --style ndjson` lines (macOS). */
export function parseMacLog(text: string): LogRow[] {
  return text.split('\n').filter((l) => l.startsWith('{')).flatMap((line) => {
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      return [{ time: cut(e.timestamp, 64), level: cut(e.messageType ?? 'default', 32), source: cut(e.processImagePath ?? e.subsystem ?? '', 256), message: cut(e.eventMessage, 8192) }];
    } catch {
      return [];
    }
  });
}

/** `Get-WinEvent | ConvertTo-Json` (one object when there is one event). */
export function parseWinEvents(json: string): LogRow[] {
  const parsed = JSON.parse(json || '[]') as unknown;
  const rows = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
  return rows.map((e) => ({ time: cut(e.TimeCreated, 64), level: cut(e.LevelDisplayName, 32), source: cut(e.ProviderName, 256), message: cut(e.Message, 8192) }));
}

/** The last lines of a syslog file, for Linux without journald. */
async function tailFile(path: string, maxBytes: number): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n').filter(Boolean);
    return start > 0 ? lines.slice(1) : lines;
  } finally {
    await handle.close();
  }
}

const matches = (filter: string | undefined) => {
  const needle = filter?.toLowerCase();
  return (row: LogRow) => !needle || row.message.toLowerCase().includes(needle) || row.source.toLowerCase().includes(needle);
};

/** Recent OS log entries, oldest first, optionally those whose message or source contains `filter`. */
export async function queryLogs(platform: NodeJS.Platform, op: Op<'logs.query'>): Promise<RemoteResult<'logs.query'>> {
  const scan = String(op.filter ? op.lines * SCAN_FACTOR : op.lines);
  const keep = (rows: LogRow[]) => rows.filter(matches(op.filter)).slice(-op.lines);
  if (platform === 'win32') {
    // `scan` is an integer the schema bounded; it is the only value in the script.
    const script = `Get-WinEvent -LogName System -MaxEvents ${Number(scan)} | Sort-Object TimeCreated | Select-Object @{n='TimeCreated';e={$_.TimeCreated.ToString('o')}},LevelDisplayName,ProviderName,Message | ConvertTo-Json -Compress`;
    const { stdout } = await runTool('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', script]);
    return { source: 'Windows Event Log (System)', entries: keep(parseWinEvents(stdout)) };
  }
  if (platform === 'darwin') {
    const { stdout } = await runTool('log', ['show', '--style', 'ndjson', '--last', '1h']);
    return { source: 'macOS unified log', entries: keep(parseMacLog(stdout)) };
  }
  try {
    const { stdout, code, stderr } = await runTool('journalctl', ['-o', 'json', '--no-pager', '-n', scan]);
    if (code === 0 && stdout.trim()) return { source: 'journald', entries: keep(parseJournal(stdout)) };
    if (code !== 0 && !/no journal files/i.test(stderr)) throw new RemoteFailure('FAILED', `journalctl failed: ${stderr.trim().slice(0, 300)}`);
  } catch (error) {
    if (!(error instanceof RemoteFailure) || error.code !== 'UNSUPPORTED') throw error;
  }
  for (const file of ['/var/log/syslog', '/var/log/messages']) {
    const lines = await tailFile(file, 4 * 1024 * 1024).catch(() => null);
    if (!lines) continue;
    return { source: file, entries: keep(lines.map((message) => ({ time: '', level: 'info', source: file, message: message.slice(0, 8192) }))) };
  }
  throw new RemoteFailure('UNSUPPORTED', 'No OS log on this device: neither journald nor /var/log/syslog or /var/log/messages');
}
