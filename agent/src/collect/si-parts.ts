import si from 'systeminformation';
import type { SampleParts } from './parts.ts';
import { toBytes, toPercent, toRate, toText } from './num.ts';

/** Schema bound on disks and interfaces per sample. */
const MAX_ITEMS = 256;

/**
 * The sample's parts from systeminformation: macOS, Windows, and Linux where /proc cannot be
 * read. On Linux it spawns shells each call (`cat /proc/stat | grep cpu`, `df`, and several per
 * interface), which is why Linux reads the kernel's files itself (linux/).
 * Network rates are null on the first call in a process (systeminformation needs two readings).
 */
export function createSystemInformationParts(): SampleParts {
  return {
    async cpu() {
      const load = await si.currentLoad();
      return { loadPercent: toPercent(load.currentLoad), perCorePercent: load.cpus.slice(0, 1024).map((c) => toPercent(c.load)) };
    },
    async memory() {
      const m = await si.mem();
      const total = toBytes(m.total);
      // "used" in systeminformation counts page cache on Linux; total - available is what a person means.
      const available = Math.min(total, toBytes(m.available));
      return { totalBytes: total, usedBytes: total - available, availableBytes: available, swapTotalBytes: toBytes(m.swaptotal), swapUsedBytes: toBytes(m.swapused) };
    },
    async disks() {
      return (await si.fsSize()).slice(0, MAX_ITEMS).map((d) => ({
        mount: toText(d.mount, 512), fs: toText(d.fs, 512), type: toText(d.type, 64), sizeBytes: toBytes(d.size), usedBytes: toBytes(d.used),
      }));
    },
    async network() {
      return (await si.networkStats('*')).slice(0, MAX_ITEMS).map((n) => ({
        iface: toText(n.iface, 128), rxBytes: toBytes(n.rx_bytes), txBytes: toBytes(n.tx_bytes),
        rxBytesPerSec: toRate(n.rx_sec), txBytesPerSec: toRate(n.tx_sec), rxErrors: toBytes(n.rx_errors), txErrors: toBytes(n.tx_errors),
      }));
    },
  };
}
