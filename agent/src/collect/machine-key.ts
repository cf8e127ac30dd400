import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const MAX_KEY = 256;
/** Values firmware ships when nobody set a real UUID; they are shared by many machines. */
const BOGUS_UUIDS = new Set([
  '',
  '-',
  'none',
  'not settable',
  'not specified',
  'to be filled by o.e.m.',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '03000200-0400-0500-0006-000700080009',
]);

export interface MachineKeySources {
  /** SMBIOS / IOPlatform UUID (si.uuid().hardware or si.system().uuid). */
  hardwareUuids: string[];
  /** OS install id (si.uuid().os: /etc/machine-id, Windows MachineGuid…). */
  osIds: string[];
  macs: string[];
}

const clean = (v: string) => v.trim().toLowerCase();
const usableUuid = (v: string) => !BOGUS_UUIDS.has(clean(v));
const usableMac = (v: string) => /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/.test(clean(v)) && !/^(00[:-]){5}00$/.test(clean(v));

/**
 * The most stable identifier available, which the server uses to recognise a re-enrolling
 * machine: hardware UUID, else OS machine id, else the sorted MAC addresses. Never the
 * hostname: names are reused and renamed. Null when there is nothing usable.
 */
export function pickMachineKey(src: MachineKeySources): string | null {
  const hw = src.hardwareUuids.find(usableUuid);
  if (hw) return fit(clean(hw));
  const os = src.osIds.find((v) => clean(v) !== '');
  if (os) return fit(clean(os));
  const macs = [...new Set(src.macs.filter(usableMac).map(clean))].sort();
  return macs.length > 0 ? fit(macs.join(',')) : null;
}

/** Keeps the key within the schema's bound; a long MAC list becomes its hash. */
function fit(key: string): string {
  return key.length <= MAX_KEY ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** Linux machine ids, for when systeminformation found none. */
export function readLinuxMachineIds(): string[] {
  const ids: string[] = [];
  for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      ids.push(readFileSync(file, 'utf8').trim());
    } catch {
      // Absent on non-systemd systems; the next source is tried.
    }
  }
  return ids;
}
