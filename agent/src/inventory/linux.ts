import type { PendingUpdate, ServiceItem, SoftwareItem, UpdateClassification, UpdateSeverity } from '@ninjait/shared';
import { lines } from './run-tool.ts';

/** `dpkg-query -W -f` format the parser below reads: tab-separated, one package a line. */
export const DPKG_FORMAT = '${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${Maintainer}\n';

/** Installed packages from `dpkg-query -W -f DPKG_FORMAT` (only state "ii"/"hi": installed). */
export function parseDpkg(text: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const line of lines(text)) {
    const [status = '', name = '', version = '', arch = '', maintainer = ''] = line.split('\t');
    if (!/^[ih]i/.test(status) || !name) continue;
    items.push({ key: `dpkg:${name}:${arch}`, name, version, arch, publisher: maintainer, source: 'dpkg', installedAtMs: null });
  }
  return items;
}

/** `rpm -qa --qf` format: epoch shows "(none)" when absent. */
export const RPM_FORMAT = '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{VENDOR}\t%{INSTALLTIME}\n';

export function parseRpm(text: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const line of lines(text)) {
    const [name = '', epoch = '', version = '', release = '', arch = '', vendor = '', installed = ''] = line.split('\t');
    if (!name || name === 'gpg-pubkey') continue;
    const full = `${epoch && epoch !== '(none)' ? `${epoch}:` : ''}${version}-${release}`;
    const seconds = Number(installed);
    items.push({
      key: `rpm:${name}:${arch}`, name, version: full, arch, publisher: vendor === '(none)' ? '' : vendor, source: 'rpm',
      installedAtMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null,
    });
  }
  return items;
}

/**
 * `apt-get -s upgrade` (simulation): every `Inst` line is an upgrade, e.g.
 * `Inst openssl [3.0.11-1~deb12u1] (3.0.13-1~deb12u1 Debian-Security:12/stable-security [amd64])`.
 * The origin and suite in parentheses say whether it is a security update.
 */
export function parseAptSimulation(text: string): PendingUpdate[] {
  const updates: PendingUpdate[] = [];
  const pattern = /^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+) ([^[)]*?)\s*(?:\[([^\]]*)\])?\)/;
  for (const line of lines(text)) {
    const match = pattern.exec(line);
    if (!match) continue;
    const [, name = '', current = '', available = '', origins = '', arch = ''] = match;
    const security = /securi/i.test(origins);
    updates.push({
      key: `apt:${name}:${arch}`, name, currentVersion: current, availableVersion: available, source: 'apt',
      classification: security ? 'security' : 'other', severity: security ? 'important' : 'unspecified', detail: origins.trim(),
    });
  }
  return updates;
}

/**
 * `dnf updateinfo list --updates` lines give advisories (`FEDORA-2024-1 security openssl-1:3.1.4-2.fc39.x86_64`,
 * newer dnf adds a severity column); `dnf check-update` lines give every pending package
 * (`openssl.x86_64  1:3.1.4-2.fc39  updates`). Packages without an advisory are "other".
 */
export function parseDnf(checkUpdate: string, updateInfo: string, source: 'dnf' | 'yum' = 'dnf'): PendingUpdate[] {
  const advisories = new Map<string, { classification: UpdateClassification; severity: UpdateSeverity; id: string }>();
  for (const line of lines(updateInfo)) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 3) continue;
    const [id = '', type = '', ...rest] = parts;
    const nevra = rest[rest.length - 1] ?? '';
    const severityWord = rest.length > 1 ? rest[0]!.replace(/\/Sec\.?$/i, '').toLowerCase() : '';
    const name = nevraName(nevra);
    if (!name) continue;
    const kind = /security|Sec\./i.test(type) ? 'security' : /bugfix/i.test(type) ? 'bugfix' : /enhancement/i.test(type) ? 'feature' : 'other';
    const severityFromType = /^(critical|important|moderate|low)\/Sec/i.exec(type)?.[1]?.toLowerCase() ?? severityWord;
    advisories.set(name, { classification: kind, severity: toSeverity(severityFromType), id });
  }
  const updates: PendingUpdate[] = [];
  for (const line of lines(checkUpdate)) {
    if (/^(Last metadata|Obsoleting|Security:)/.test(line)) continue;
    const match = /^(\S+)\.(\S+)\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (!match) continue;
    const [, name = '', arch = '', version = '', repo = ''] = match;
    const advisory = advisories.get(name);
    updates.push({
      key: `${source}:${name}:${arch}`, name, currentVersion: '', availableVersion: version, source,
      classification: advisory?.classification ?? 'other', severity: advisory?.severity ?? 'unspecified',
      detail: advisory ? `${advisory.id} (${repo})` : repo,
    });
  }
  return updates;
}

/** The package name of `name-[epoch:]version-release.arch`. */
function nevraName(nevra: string): string {
  const withoutArch = nevra.replace(/\.[^.]+$/, '');
  const parts = withoutArch.split('-');
  return parts.length >= 3 ? parts.slice(0, -2).join('-') : '';
}

export function toSeverity(word: string): UpdateSeverity {
  const lower = word.toLowerCase();
  if (lower === 'critical') return 'critical';
  if (lower === 'important' || lower === 'high') return 'important';
  if (lower === 'moderate' || lower === 'medium') return 'moderate';
  if (lower === 'low') return 'low';
  return 'unspecified';
}

/**
 * `zypper --xmlout list-updates -t patch` and `-t package` are XML; the `update` elements carry
 * name, edition, kind, category (security/recommended/optional) and severity as attributes.
 */
export function parseZypperXml(xml: string): PendingUpdate[] {
  const updates: PendingUpdate[] = [];
  for (const match of xml.matchAll(/<update\s([^>]*?)\/?>/g)) {
    const attrs = Object.fromEntries([...(match[1] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, decodeXml(m[2]!)]));
    const name = attrs.name ?? '';
    if (!name) continue;
    const category = (attrs.category ?? '').toLowerCase();
    const classification: UpdateClassification = category === 'security' ? 'security' : category === 'recommended' ? 'bugfix'
      : category === 'optional' || category === 'feature' ? 'feature' : 'other';
    updates.push({
      key: `zypper:${attrs.kind ?? 'package'}:${name}:${attrs.arch ?? ''}`, name, currentVersion: attrs['edition-old'] ?? '',
      availableVersion: attrs.edition ?? '', source: 'zypper', classification, severity: toSeverity(attrs.severity ?? ''),
      detail: attrs.kind === 'patch' ? `patch ${name}` : attrs.repo ?? '',
    });
  }
  return updates;
}

const decodeXml = (text: string) => text.replace(/&quot;/g, '"').replace(/&apos;/g, '\'').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** `systemctl list-units --type=service --all --output=json` joined with `list-unit-files` for the start mode. */
export function parseSystemd(unitsJson: string, unitFilesJson: string): ServiceItem[] {
  const units = JSON.parse(unitsJson || '[]') as Array<{ unit?: string; sub?: string; active?: string; description?: string }>;
  const files = JSON.parse(unitFilesJson || '[]') as Array<{ unit_file?: string; state?: string }>;
  const modes = new Map(files.map((file) => [file.unit_file ?? '', file.state ?? '']));
  return units.filter((unit) => unit.unit?.endsWith('.service')).map((unit) => {
    const name = unit.unit!.replace(/\.service$/, '');
    return {
      key: `systemd:${name}`, name, displayName: unit.description ?? '', state: (unit.sub ?? unit.active ?? '').toLowerCase(),
      startMode: modes.get(unit.unit!) ?? '',
    };
  });
}
