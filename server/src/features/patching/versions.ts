/** Version comparison per ecosystem: dpkg's rules for .deb, rpmvercmp for RPM, dotted numbers otherwise. */
export type Ecosystem = 'deb' | 'rpm' | 'other';

export function ecosystemOf(source: string): Ecosystem {
  if (source === 'dpkg' || source === 'apt') return 'deb';
  if (source === 'rpm' || source === 'dnf' || source === 'yum' || source === 'zypper') return 'rpm';
  return 'other';
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareVersions(ecosystem: Ecosystem, a: string, b: string): number {
  if (ecosystem === 'deb') return compareDebian(a, b);
  if (ecosystem === 'rpm') return compareRpm(a, b);
  return compareDotted(a, b);
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) => c !== undefined && /[A-Za-z]/.test(c);

/** dpkg's character order: ~ before everything (even the end), then the end, letters, then the rest. */
function debOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp on one part (upstream version or revision). */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = debOrder(a[i]);
      const bc = debOrder(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function splitDebian(version: string) {
  const colon = version.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(version.slice(0, colon)) ? Number(version.slice(0, colon)) : 0;
  const rest = colon > 0 ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf('-');
  return { epoch, upstream: dash >= 0 ? rest.slice(0, dash) : rest, revision: dash >= 0 ? rest.slice(dash + 1) : '' };
}

/** dpkg --compare-versions: epoch, then upstream, then revision, each by verrevcmp. */
export function compareDebian(a: string, b: string): number {
  const x = splitDebian(a.trim());
  const y = splitDebian(b.trim());
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  return Math.sign(verrevcmp(x.upstream, y.upstream)) || Math.sign(verrevcmp(x.revision, y.revision));
}

/** rpmvercmp on one part: alternating digit and letter segments, tilde sorts first, caret after the end. */
function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !/[A-Za-z0-9~^]/.test(a[i]!)) i++;
    while (j < b.length && !/[A-Za-z0-9~^]/.test(b[j]!)) j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigit(a[i]);
    const take = (s: string, k: number) => {
      let end = k;
      while (end < s.length && (numeric ? isDigit(s[end]) : isAlpha(s[end]))) end++;
      return end;
    };
    const ie = take(a, i);
    const je = take(b, j);
    let sa = a.slice(i, ie);
    let sb = b.slice(j, je);
    // A numeric segment beats an alphabetic one.
    if (sb === '') return numeric ? 1 : -1;
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa > sb ? 1 : -1;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

function splitRpm(version: string) {
  const colon = version.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(version.slice(0, colon)) ? Number(version.slice(0, colon)) : 0;
  const rest = colon > 0 ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf('-');
  return { epoch, version: dash >= 0 ? rest.slice(0, dash) : rest, release: dash >= 0 ? rest.slice(dash + 1) : null };
}

/** RPM's order of [epoch:]version[-release]; a missing release matches any. */
export function compareRpm(a: string, b: string): number {
  const x = splitRpm(a.trim());
  const y = splitRpm(b.trim());
  if (x.epoch !== y.epoch) return Math.sign(x.epoch - y.epoch);
  const byVersion = rpmvercmp(x.version, y.version);
  if (byVersion !== 0 || x.release === null || y.release === null) return byVersion;
  return rpmvercmp(x.release, y.release);
}

/**
 * Windows and macOS: numbers separated by anything, compared numerically ("10.0.2" > "9.9");
 * a pre-release suffix ("-beta") sorts before the plain version.
 */
export function compareDotted(a: string, b: string): number {
  const parts = (value: string) => {
    const [main = '', pre = ''] = value.trim().split(/-(.*)/s);
    return { numbers: main.split(/[^0-9]+/).filter(Boolean).map(Number), pre };
  };
  const x = parts(a);
  const y = parts(b);
  for (let k = 0; k < Math.max(x.numbers.length, y.numbers.length); k++) {
    const diff = (x.numbers[k] ?? 0) - (y.numbers[k] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  if (x.pre === y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  return x.pre < y.pre ? -1 : 1;
}
