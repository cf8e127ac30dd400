import type { RemoteOp, RemoteResult } from '@ninjait/shared';
import { RemoteFailure } from './errors.ts';
import { runTool } from './run-tool.ts';

type Op<K extends RemoteOp['kind']> = Extract<RemoteOp, { kind: K }>;
type ServiceRow = RemoteResult<'svc.list'>['services'][number];

/** `systemctl list-units --output=json` rows. */
export function parseSystemctl(json: string): ServiceRow[] {
  const rows = JSON.parse(json) as { unit?: string; active?: string; sub?: string; description?: string }[];
  return rows.filter((r) => typeof r.unit === 'string').map((r) => ({
    name: r.unit!.replace(/\.service$/, ''), state: `${r.active ?? ''}${r.sub ? ` (${r.sub})` : ''}`, description: r.description ?? '',
  }));
}

/** `launchctl list` lines: PID, last exit status, label. */
export function parseLaunchctl(text: string): ServiceRow[] {
  return text.split('\n').slice(1).map((line) => line.split('\t')).filter((cols) => cols.length === 3).map(([pid, status, label]) => ({
    name: label!.trim(), state: pid === '-' ? `stopped (last exit ${status})` : `running (pid ${pid})`, description: '',
  }));
}

/** `Get-Service | ConvertTo-Json` (Status is a number in Windows PowerShell 5). */
export function parseWindowsServices(json: string): ServiceRow[] {
  const parsed = JSON.parse(json || '[]') as { Name?: string; Status?: number | string; DisplayName?: string } | { Name?: string }[];
  const rows = Array.isArray(parsed) ? parsed : [parsed];
  const states: Record<number, string> = { 1: 'stopped', 2: 'start pending', 3: 'stop pending', 4: 'running', 5: 'continue pending', 6: 'pause pending', 7: 'paused' };
  return rows.map((r) => r as { Name?: string; Status?: number | string; DisplayName?: string }).filter((r) => typeof r.Name === 'string').map((r) => ({
    name: r.Name!, state: typeof r.Status === 'number' ? states[r.Status] ?? String(r.Status) : String(r.Status ?? ''), description: r.DisplayName ?? '',
  }));
}

/** The argument arrays a service action runs as, per OS (restart on Windows is stop, then start). */
export function serviceCommands(platform: NodeJS.Platform, name: string, action: Op<'svc.control'>['action']): [string, string[]][] {
  if (name.startsWith('-')) throw new RemoteFailure('BAD_REQUEST', 'A service name cannot start with "-"');
  if (platform === 'win32') {
    return action === 'restart' ? [['sc.exe', ['stop', name]], ['sc.exe', ['start', name]]] : [['sc.exe', [action, name]]];
  }
  if (platform === 'darwin') {
    const target = `system/${name}`;
    if (action === 'stop') return [['launchctl', ['kill', 'SIGTERM', target]]];
    return [['launchctl', action === 'restart' ? ['kickstart', '-k', target] : ['kickstart', target]]];
  }
  return [['systemctl', [action, '--no-ask-password', '--', name.includes('.') ? name : `${name}.service`]]];
}

/** Services and their state from the OS's service manager. */
export async function listServices(platform: NodeJS.Platform): Promise<RemoteResult<'svc.list'>> {
  if (platform === 'win32') {
    const { stdout } = await runTool('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', 'Get-Service | Select-Object Name,Status,DisplayName | ConvertTo-Json -Compress']);
    return { manager: 'Windows SCM', services: parseWindowsServices(stdout).slice(0, 5_000) };
  }
  if (platform === 'darwin') {
    const { stdout } = await runTool('launchctl', ['list']);
    return { manager: 'launchd', services: parseLaunchctl(stdout).slice(0, 5_000) };
  }
  const { stdout, stderr, code } = await runTool('systemctl', ['list-units', '--type=service', '--all', '--output=json', '--no-pager']);
  if (code !== 0) throw new RemoteFailure('UNSUPPORTED', `systemd is not running here: ${(stderr || stdout).trim().slice(0, 300)}`);
  return { manager: 'systemd', services: parseSystemctl(stdout).slice(0, 5_000) };
}

export async function controlService(platform: NodeJS.Platform, op: Op<'svc.control'>): Promise<RemoteResult<'svc.control'>> {
  let output = '';
  for (const [file, args] of serviceCommands(platform, op.name, op.action)) {
    const result = await runTool(file, args, { timeoutMs: 90_000 });
    output += `${result.stdout}${result.stderr}`;
    // sc.exe stop on a stopped service (1062) must not stop a restart.
    if (result.code !== 0 && !(platform === 'win32' && op.action === 'restart' && args[0] === 'stop')) {
      throw new RemoteFailure('FAILED', `${file} ${args.join(' ')} failed (exit ${result.code}): ${output.trim().slice(0, 800)}`);
    }
  }
  return { name: op.name, action: op.action, output: output.slice(0, 8192) };
}
