import type { MetricSample } from '@ninjait/shared';
import { toBytes, toText } from '../num.ts';

export interface InterfaceCounters {
  iface: string;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
}

/**
 * The interfaces of /proc/net/dev: `name: rx_bytes rx_packets rx_errs … tx_bytes tx_packets
 * tx_errs …` after two header lines. The same counters as /sys/class/net/<if>/statistics.
 */
export function parseNetDev(text: string): InterfaceCounters[] {
  const counters: InterfaceCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (fields.length < 16) continue;
    const n = (i: number) => toBytes(Number(fields[i]));
    counters.push({ iface: line.slice(0, colon).trim(), rxBytes: n(0), rxErrors: n(2), txBytes: n(8), txErrors: n(10) });
  }
  return counters;
}

/**
 * Interface traffic with per-second rates since the previous reading. An interface seen for the
 * first time, or whose counters went back (driver reload, wrap), has no rate this time.
 * `include` picks the interfaces (systeminformation reports those that have an address).
 */
export function createNetworkRates(): (netDev: string, atMs: number, include: (iface: string) => boolean) => MetricSample['network'] {
  let previous = new Map<string, { rx: number; tx: number; atMs: number }>();
  const rate = (now: number, before: number | undefined, seconds: number) =>
    before === undefined || now < before || seconds <= 0 ? null : (now - before) / seconds;
  return (netDev, atMs, include) => {
    const seen = new Map<string, { rx: number; tx: number; atMs: number }>();
    const traffic = parseNetDev(netDev).filter((c) => include(c.iface)).slice(0, 256).map((c) => {
      const before = previous.get(c.iface);
      const seconds = before ? (atMs - before.atMs) / 1000 : 0;
      seen.set(c.iface, { rx: c.rxBytes, tx: c.txBytes, atMs });
      return {
        iface: toText(c.iface, 128),
        rxBytes: c.rxBytes,
        txBytes: c.txBytes,
        rxBytesPerSec: rate(c.rxBytes, before?.rx, seconds),
        txBytesPerSec: rate(c.txBytes, before?.tx, seconds),
        rxErrors: c.rxErrors,
        txErrors: c.txErrors,
      };
    });
    // Only the interfaces of this reading are kept, so ones that went away do not pile up.
    previous = seen;
    return traffic;
  };
}
