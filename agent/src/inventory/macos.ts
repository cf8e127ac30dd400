import type { PendingUpdate, ServiceItem, SoftwareItem } from '@ninjait/shared';
import { lines } from './run-tool.ts';

interface ProfilerApp { _name?: string; version?: string; obtained_from?: string; lastModified?: string; path?: string; signed_by?: string[] }
interface ProfilerInstall { _name?: string; install_version?: string; install_date?: string; package_source?: string }

const time = (value: string | undefined) => {
  const ms = Date.parse(value ?? '');
  return Number.isFinite(ms) && ms > 0 ? ms : null;
};

/** `system_profiler -json SPApplicationsDataType`: every application bundle. */
export function parseMacApplications(json: string): SoftwareItem[] {
  const apps = (JSON.parse(json || '{}') as { SPApplicationsDataType?: ProfilerApp[] }).SPApplicationsDataType ?? [];
  return apps.filter((app) => app._name).map((app) => ({
    key: `macos-app:${app.path ?? app._name}`, name: app._name!, version: app.version ?? '', arch: '',
    publisher: app.signed_by?.[0] ?? app.obtained_from ?? '', source: 'macos-app' as const, installedAtMs: time(app.lastModified),
  }));
}

/**
 * `system_profiler -json SPInstallHistoryDataType`: pkg receipts with their versions and dates,
 * the latest version of each name; the newest Apple install is when the Mac was last patched.
 */
export function parseMacInstallHistory(json: string): { receipts: SoftwareItem[]; lastPatchedAtMs: number | null } {
  const installs = (JSON.parse(json || '{}') as { SPInstallHistoryDataType?: ProfilerInstall[] }).SPInstallHistoryDataType ?? [];
  const latest = new Map<string, SoftwareItem>();
  let lastPatchedAtMs: number | null = null;
  for (const install of installs) {
    if (!install._name) continue;
    const at = time(install.install_date);
    if (install.package_source === 'package_source_apple' && at !== null) lastPatchedAtMs = Math.max(lastPatchedAtMs ?? 0, at);
    const previous = latest.get(install._name);
    if (previous && (previous.installedAtMs ?? 0) > (at ?? 0)) continue;
    latest.set(install._name, {
      key: `pkgutil:${install._name}`, name: install._name, version: install.install_version ?? '', arch: '',
      publisher: install.package_source === 'package_source_apple' ? 'Apple' : '', source: 'pkgutil', installedAtMs: at,
    });
  }
  return { receipts: [...latest.values()], lastPatchedAtMs };
}

/**
 * `softwareupdate --list`: a `* Label:` line, then a tab-indented line of `Key: value,` pairs.
 * Apple does not classify; "Recommended: YES" and security-response names are treated as security.
 */
export function parseSoftwareUpdate(text: string): { updates: PendingUpdate[]; rebootPending: boolean } {
  const updates: PendingUpdate[] = [];
  let label: string | null = null;
  for (const line of lines(text)) {
    const labelMatch = /^\s*\*\s*Label:\s*(.+)$/.exec(line);
    if (labelMatch) {
      label = labelMatch[1]!.trim();
      continue;
    }
    if (!label) continue;
    const fields = Object.fromEntries([...line.matchAll(/(\w[\w ]*?):\s*([^,]*),?/g)].map((m) => [m[1]!.trim().toLowerCase(), m[2]!.trim()]));
    const title = fields.title ?? label;
    const security = /security|rapid security response|xprotect|mrt/i.test(`${label} ${title}`) || /^yes$/i.test(fields.recommended ?? '');
    updates.push({
      key: `softwareupdate:${label}`, name: title, currentVersion: '', availableVersion: fields.version ?? '', source: 'softwareupdate',
      classification: security ? 'security' : 'other', severity: 'unspecified',
      detail: `${label}${fields.action ? ` (action: ${fields.action})` : ''}`,
    });
    label = null;
  }
  return { updates, rebootPending: false };
}

/** `launchctl list`: `PID\tStatus\tLabel`; a PID means running. */
export function parseLaunchctl(text: string): ServiceItem[] {
  return lines(text).slice(1).map((line) => {
    const [pid = '-', status = '', label = ''] = line.split('\t');
    return {
      key: `launchd:${label}`, name: label, displayName: label, state: pid !== '-' ? 'running' : status === '0' ? 'stopped' : 'failed',
      startMode: '',
    };
  }).filter((service) => service.name);
}
