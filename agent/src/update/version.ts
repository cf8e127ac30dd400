/** Compares semantic versions (`1.2.3`, `1.2.3-rc.1`); a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = splitOnce(a);
  const [coreB = '', preB] = splitOnce(b);
  const partsA = coreA.split('.').map(Number);
  const partsB = coreB.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const diff = (partsA[i] ?? 0) - (partsB[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  if (preA === undefined || preB === undefined) return preA === preB ? 0 : preA === undefined ? 1 : -1;
  return preA.localeCompare(preB, 'en', { numeric: true });
}

function splitOnce(version: string): [string, string | undefined] {
  const at = version.indexOf('-');
  return at < 0 ? [version, undefined] : [version.slice(0, at), version.slice(at + 1)];
}

/** True when `candidate` is strictly newer than `current`. */
export const isNewer = (candidate: string, current: string) => compareVersions(candidate, current) > 0;
