import type { PendingUpdate, ServiceItem, SoftwareItem, UpdateClassification } from '@ninjait/shared';
import { toSeverity } from './linux.ts';

/**
 * PowerShell programs the collectors run (constant text, no data spliced in). Each prints JSON.
 * Uninstall keys are read in both registry views (64-bit and WOW6432Node) and for the machine.
 */
export const WINDOWS_SCRIPTS = {
  software: `$ErrorActionPreference='SilentlyContinue';
$keys = @('HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*');
$rows = foreach ($k in $keys) { Get-ItemProperty $k | Where-Object { $_.DisplayName -and -not $_.SystemComponent } | ForEach-Object {
  [pscustomobject]@{ Id=$_.PSChildName; View=$(if ($k -like '*WOW6432Node*') {'x86'} else {'x64'}); DisplayName=$_.DisplayName; DisplayVersion=$_.DisplayVersion; Publisher=$_.Publisher; InstallDate=$_.InstallDate } } };
@($rows) | ConvertTo-Json -Compress -Depth 2`,
  appx: `$ErrorActionPreference='SilentlyContinue'; @(Get-AppxPackage -AllUsers | Select-Object Name,Version,Publisher,Architecture) | ConvertTo-Json -Compress -Depth 2`,
  services: `@(Get-CimInstance Win32_Service | Select-Object Name,DisplayName,State,StartMode) | ConvertTo-Json -Compress -Depth 2`,
  updates: `$ErrorActionPreference='Stop'; $s = New-Object -ComObject Microsoft.Update.Session; $r = $s.CreateUpdateSearcher().Search('IsInstalled=0 and IsHidden=0');
@(foreach ($u in $r.Updates) { [pscustomobject]@{ Id=$u.Identity.UpdateID; Title=$u.Title; KB=@($u.KBArticleIDs); Severity=$u.MsrcSeverity; Categories=@($u.Categories | ForEach-Object { $_.Name }) } }) | ConvertTo-Json -Compress -Depth 3`,
  reboot: `$p = (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired') -or (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending');
$h = Get-HotFix | Where-Object InstalledOn | Sort-Object InstalledOn -Descending | Select-Object -First 1;
[pscustomobject]@{ RebootPending=$p; LastPatched=$(if ($h) { $h.InstalledOn.ToUniversalTime().ToString('o') } else { $null }) } | ConvertTo-Json -Compress`,
} as const;

/** ConvertTo-Json prints a lone object without brackets, and nothing for an empty list. */
function jsonList(text: string): Record<string, unknown>[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const value = JSON.parse(trimmed) as unknown;
  return (Array.isArray(value) ? value : [value]).filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}
const str = (value: unknown) => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

/** yyyymmdd, as uninstall keys store InstallDate. */
function installDate(value: string): number | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

export function parseWindowsSoftware(text: string): SoftwareItem[] {
  return jsonList(text).map((row) => ({
    key: `registry:${str(row.View)}:${str(row.Id)}`, name: str(row.DisplayName), version: str(row.DisplayVersion), arch: str(row.View),
    publisher: str(row.Publisher), source: 'registry' as const, installedAtMs: installDate(str(row.InstallDate)),
  }));
}

/** Architecture comes as a number from older PowerShell (0 x86, 9 x64, 5 arm, 12 arm64, 11 neutral). */
const APPX_ARCH: Record<string, string> = { 0: 'x86', 5: 'arm', 9: 'x64', 11: 'neutral', 12: 'arm64' };

export function parseAppx(text: string): SoftwareItem[] {
  return jsonList(text).map((row) => {
    const arch = APPX_ARCH[str(row.Architecture)] ?? str(row.Architecture).toLowerCase();
    return {
      key: `appx:${str(row.Name)}:${arch}`, name: str(row.Name), version: str(row.Version), arch, publisher: str(row.Publisher),
      source: 'appx' as const, installedAtMs: null,
    };
  });
}

/** Win32_Service start modes (Auto, Manual, Disabled) and states (Running, Stopped), lower-cased. */
export function parseWindowsServices(text: string): ServiceItem[] {
  return jsonList(text).map((row) => ({
    key: `scm:${str(row.Name)}`, name: str(row.Name), displayName: str(row.DisplayName), state: str(row.State).toLowerCase(),
    startMode: str(row.StartMode).toLowerCase(),
  }));
}

/** Windows Update categories ("Security Updates", "Critical Updates", …) mapped onto ours. */
function windowsClass(categories: string[]): UpdateClassification {
  const all = categories.join(' ').toLowerCase();
  if (all.includes('security')) return 'security';
  if (all.includes('critical')) return 'critical';
  if (all.includes('feature') || all.includes('upgrade')) return 'feature';
  if (all.includes('update')) return 'bugfix';
  return 'other';
}

export function parseWindowsUpdates(text: string): PendingUpdate[] {
  return jsonList(text).map((row) => {
    const kbs = (Array.isArray(row.KB) ? row.KB : [row.KB]).map(str).filter(Boolean);
    const categories = (Array.isArray(row.Categories) ? row.Categories : [row.Categories]).map(str).filter(Boolean);
    const title = str(row.Title);
    return {
      key: `wu:${str(row.Id)}`, name: kbs.length > 0 ? `KB${kbs[0]}` : title, currentVersion: '', availableVersion: title,
      source: 'windows-update' as const, classification: windowsClass(categories), severity: toSeverity(str(row.Severity)),
      detail: categories.join(', '),
    };
  });
}

export function parseWindowsRebootState(text: string): { rebootPending: boolean; lastPatchedAtMs: number | null } {
  const [row] = jsonList(text);
  const last = Date.parse(str(row?.LastPatched));
  return { rebootPending: row?.RebootPending === true, lastPatchedAtMs: Number.isFinite(last) ? last : null };
}
