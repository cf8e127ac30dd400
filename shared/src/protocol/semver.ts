import semver from 'semver';

/**
 * Compares semantic versions (`1.2.3`, `1.2.3-rc.1`) the way semver.org orders them: a
 * pre-release sorts before its release. A string that is not a version sorts before every
 * version (and equal to another such string), so a stray file or field never wins an update.
 */
export function compareVersions(a: string, b: string): number {
  const va = semver.valid(a);
  const vb = semver.valid(b);
  if (va === null || vb === null) return va === vb ? 0 : va === null ? -1 : 1;
  return semver.compare(va, vb);
}

/** True when `candidate` is strictly newer than `current`. */
export const isNewer = (candidate: string, current: string): boolean => compareVersions(candidate, current) > 0;

/** True for a version semver accepts, without build metadata (release file names carry the version). */
export const isReleaseVersion = (value: string): boolean => semver.valid(value) === value && !value.includes('+');
