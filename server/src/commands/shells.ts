import { AppError } from '../errors.ts';
import type { Shell } from './types.ts';

export type OsFamily = 'posix' | 'windows';

/**
 * The device's OS family from `devices.os_type`, which holds systeminformation's
 * `osInfo().platform`: `process.platform` values, except 'Windows' on Windows.
 */
export function osFamily(osType: string | null): OsFamily | null {
  if (!osType) return null;
  const os = osType.toLowerCase();
  if (os === 'windows' || os === 'win32') return 'windows';
  return 'posix';
}

const SHELLS_BY_FAMILY: Record<OsFamily, readonly Shell[]> = {
  posix: ['sh', 'bash'],
  windows: ['powershell', 'cmd'],
};

/** Refuses a shell the device's OS does not have (BAD_REQUEST), before anything is written. */
export function assertShellSupported(osType: string | null, shell: Shell): void {
  const family = osFamily(osType);
  if (!family) throw new AppError('BAD_REQUEST', 'The device has not reported its operating system yet');
  if (!SHELLS_BY_FAMILY[family].includes(shell)) {
    throw new AppError('BAD_REQUEST', `Shell "${shell}" is not available on ${osType} devices; use ${SHELLS_BY_FAMILY[family].join(' or ')}`);
  }
}

/** The shell a device's OS uses when none is named. */
export const defaultShell = (osType: string | null): Shell => (osFamily(osType) === 'windows' ? 'powershell' : 'sh');
