import { AppError } from '../../platform/errors.ts';
import type { Shell } from './types.ts';

export type OsFamily = 'posix' | 'windows';

/** `os_type` values (lower-cased) of the Windows family; every other reported OS is POSIX. */
export const WINDOWS_OS_TYPES: readonly string[] = ['windows', 'win32'];

const SHELLS_BY_FAMILY: Record<OsFamily, readonly Shell[]> = {
  posix: ['sh', 'bash'],
  windows: ['powershell', 'cmd'],
};
const DEFAULT_SHELL: Record<OsFamily, Shell> = { posix: 'sh', windows: 'powershell' };

/**
 * The device's OS family from `devices.os_type`, which holds systeminformation's
 * `osInfo().platform`: `process.platform` values, except 'Windows' on Windows.
 */
export function osFamily(osType: string | null): OsFamily | null {
  if (!osType) return null;
  return WINDOWS_OS_TYPES.includes(osType.toLowerCase()) ? 'windows' : 'posix';
}

/** Refuses a shell the device's OS does not have (BAD_REQUEST), before anything is written. */
export function assertShellSupported(osType: string | null, shell: Shell): void {
  const family = osFamily(osType);
  if (!family) throw new AppError('BAD_REQUEST', 'The device has not reported its operating system yet');
  if (!SHELLS_BY_FAMILY[family].includes(shell)) {
    throw new AppError('BAD_REQUEST', `Shell "${shell}" is not available on ${osType} devices; use ${SHELLS_BY_FAMILY[family].join(' or ')}`);
  }
}

/** The shell a device's OS uses when none is named. */
export const defaultShell = (osType: string | null): Shell => DEFAULT_SHELL[osFamily(osType) ?? 'posix'];

/**
 * The shell a command gets on each OS family, or null where `requested` is not available
 * there: lets one statement pick it by the device's `os_type` (see `insertCommand`).
 */
export function shellsByFamily(requested: Shell | undefined): Record<OsFamily, Shell | null> {
  const pick = (family: OsFamily) => {
    const shell = requested ?? DEFAULT_SHELL[family];
    return SHELLS_BY_FAMILY[family].includes(shell) ? shell : null;
  };
  return { posix: pick('posix'), windows: pick('windows') };
}
