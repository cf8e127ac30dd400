import { existsSync, statSync } from 'node:fs';
import { MAX_INVENTORY_ITEMS, type PendingUpdate, type ServiceItem, type SoftwareItem } from '@ninjait/shared';
import { DPKG_FORMAT, parseAptSimulation, parseDnf, parseDpkg, parseRpm, parseSystemd, parseZypperXml } from './linux.ts';
import { parseLaunchctl, parseMacApplications, parseMacInstallHistory, parseSoftwareUpdate } from './macos.ts';
import { linuxRebootPending } from './reboot-pending.ts';
import { runTool, type RunTool } from './run-tool.ts';
import {
  parseAppx, parseWindowsRebootState, parseWindowsServices, parseWindowsSoftware, parseWindowsUpdates, WINDOWS_SCRIPTS,
} from './windows.ts';

/** What one inventory pass found. */
export interface SoftwareSnapshot {
  software: SoftwareItem[];
  services: ServiceItem[];
  updates: PendingUpdate[];
  rebootPending: boolean;
  lastPatchedAtMs: number | null;
}

export interface CollectOptions {
  platform?: NodeJS.Platform;
  run?: RunTool;
  /** Extra apt options (tests point apt at their own lists). */
  aptOptions?: readonly string[];
  /** Files whose presence or time the Linux collector reads; replaceable in tests. */
  fileExists?: (path: string) => boolean;
  fileMtimeMs?: (path: string) => number | null;
  /** The running kernel's release, compared with the newest kernel package on RPM systems (tests). */
  kernelRelease?: string;
}

const mtime = (path: string) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
};

/** Collects software, services and pending updates for this OS. A missing tool leaves its part empty. */
export async function collectSoftware(options: CollectOptions = {}): Promise<SoftwareSnapshot> {
  const platform = options.platform ?? process.platform;
  const run = options.run ?? runTool;
  const snapshot = platform === 'win32' ? await collectWindows(run) : platform === 'darwin' ? await collectMac(run) : await collectLinux(run, options);
  return withinBounds(snapshot);
}

const LIMITS: Record<string, number> = { name: 256, version: 128, arch: 32, publisher: 256, displayName: 512, state: 32, startMode: 32,
  currentVersion: 128, availableVersion: 128, detail: 512, key: 600 };

/** Long fields cut and lists capped to what the server accepts: an odd package must not cost the whole report. */
function withinBounds(snapshot: SoftwareSnapshot): SoftwareSnapshot {
  const clip = <T extends object>(items: T[]): T[] => items.slice(0, MAX_INVENTORY_ITEMS).map((item) => Object.fromEntries(
    Object.entries(item).map(([field, value]) => [field, typeof value === 'string' && LIMITS[field] ? value.slice(0, LIMITS[field]) : value]),
  ) as T);
  return { ...snapshot, software: clip(snapshot.software), services: clip(snapshot.services), updates: clip(snapshot.updates) };
}

async function collectLinux(run: RunTool, options: CollectOptions): Promise<SoftwareSnapshot> {
  const exists = options.fileExists ?? existsSync;
  const fileTime = options.fileMtimeMs ?? mtime;
  const [dpkg, rpm, units, unitFiles] = await Promise.all([
    run('dpkg-query', ['-W', '-f', DPKG_FORMAT]),
    run('rpm', ['-qa', '--qf', '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{VENDOR}\t%{INSTALLTIME}\n']),
    run('systemctl', ['list-units', '--type=service', '--all', '--output=json', '--no-pager']),
    run('systemctl', ['list-unit-files', '--type=service', '--output=json', '--no-pager']),
  ]);
  const software = [...(dpkg.code === 0 ? parseDpkg(dpkg.stdout) : []), ...(rpm.code === 0 ? parseRpm(rpm.stdout) : [])];
  let services: ServiceItem[] = [];
  if (units.code === 0) {
    try {
      services = parseSystemd(units.stdout, unitFiles.code === 0 ? unitFiles.stdout : '[]');
    } catch {
      services = [];
    }
  }
  const updates: PendingUpdate[] = [];
  let lastPatchedAtMs: number | null = null;
  if (dpkg.code === 0) {
    // Debug::NoLocking: the simulation reads while another apt runs; nothing is changed.
    const apt = await run('apt-get', ['-s', '-o', 'Debug::NoLocking=1', ...(options.aptOptions ?? []), 'upgrade'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    if (apt.code === 0) updates.push(...parseAptSimulation(apt.stdout));
    lastPatchedAtMs = fileTime('/var/log/dpkg.log');
  } else if (rpm.code === 0) {
    const dnf = await run('dnf', ['-q', 'check-update']);
    // check-update exits 100 when updates exist, 0 when none.
    if (dnf.code === 100 || dnf.code === 0) {
      const info = await run('dnf', ['-q', 'updateinfo', 'list', '--updates']);
      updates.push(...parseDnf(dnf.stdout, info.code === 0 ? info.stdout : ''));
    } else {
      const zypper = await run('zypper', ['--non-interactive', '--xmlout', 'list-updates', '-t', 'package']);
      if (zypper.code === 0) updates.push(...parseZypperXml(zypper.stdout));
      const patches = await run('zypper', ['--non-interactive', '--xmlout', 'list-updates', '-t', 'patch']);
      if (patches.code === 0) updates.push(...parseZypperXml(patches.stdout));
    }
    lastPatchedAtMs = Math.max(...software.map((item) => item.installedAtMs ?? 0)) || null;
  }
  const rebootPending = await linuxRebootPending({
    run, exists, rpm: dpkg.code !== 0 && rpm.code === 0, ...(options.kernelRelease ? { kernelRelease: options.kernelRelease } : {}),
  });
  return { software, services, updates, rebootPending, lastPatchedAtMs };
}

const powershell = (run: RunTool, script: string) =>
  run('powershell.exe', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', script]);

/** Each part on its own: one failing probe (no AppX on Server Core) leaves only that part empty. */
async function tryParse<T>(result: Promise<{ code: number | null; stdout: string }>, parse: (text: string) => T, fallback: T): Promise<T> {
  const output = await result;
  if (output.code !== 0) return fallback;
  try {
    return parse(output.stdout);
  } catch {
    return fallback;
  }
}

async function collectWindows(run: RunTool): Promise<SoftwareSnapshot> {
  const [registry, appx, services] = await Promise.all([
    tryParse(powershell(run, WINDOWS_SCRIPTS.software), parseWindowsSoftware, []),
    tryParse(powershell(run, WINDOWS_SCRIPTS.appx), parseAppx, []),
    tryParse(powershell(run, WINDOWS_SCRIPTS.services), parseWindowsServices, []),
  ]);
  const updates = await tryParse(powershell(run, WINDOWS_SCRIPTS.updates), parseWindowsUpdates, []);
  const state = await tryParse(powershell(run, WINDOWS_SCRIPTS.reboot), parseWindowsRebootState, { rebootPending: false, lastPatchedAtMs: null });
  return { software: [...registry, ...appx], services, updates, ...state };
}

async function collectMac(run: RunTool): Promise<SoftwareSnapshot> {
  const [apps, history, services] = await Promise.all([
    tryParse(run('system_profiler', ['-json', '-detailLevel', 'mini', 'SPApplicationsDataType']), parseMacApplications, []),
    tryParse(run('system_profiler', ['-json', 'SPInstallHistoryDataType']), parseMacInstallHistory, { receipts: [], lastPatchedAtMs: null }),
    tryParse(run('launchctl', ['list']), parseLaunchctl, []),
  ]);
  const pending = await tryParse(run('softwareupdate', ['--list', '--no-scan']), parseSoftwareUpdate, { updates: [], rebootPending: false });
  return {
    software: [...apps, ...history.receipts], services, updates: pending.updates,
    rebootPending: pending.updates.some((update) => update.detail.includes('restart')), lastPatchedAtMs: history.lastPatchedAtMs,
  };
}
