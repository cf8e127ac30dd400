import { uptime } from 'node:os';
import si from 'systeminformation';
import { metricSampleSchema, type MetricSample } from '@ninjait/shared';
import { toBytes, toNonNegative, toPercent, toRate, toText, withTimeout } from './num.ts';

/** Schema bound on disks and interfaces per sample. */
const MAX_ITEMS = 256;
export const DEFAULT_PROBE_TIMEOUT_MS = 20_000;

/** A part of the sample that could not be read; the rest of the sample is still sent. */
export interface PartialFailure {
  part: 'disks' | 'network';
  error: unknown;
}

/**
 * Measures the machine once and returns a sample that passes `metricSampleSchema`.
 * CPU and memory are essential: if they fail, this rejects. Disks and network degrade to an
 * empty list, reported through `onPartialFailure`, so one bad probe does not cost the sample.
 * Network rates are null on the first call in a process (systeminformation needs two readings).
 */
export async function collectSample(opts: { timeoutMs?: number; onPartialFailure?: (f: PartialFailure) => void } = {}): Promise<MetricSample> {
  const ms = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const [load, mem, fs, net] = await Promise.allSettled([
    withTimeout(si.currentLoad(), ms, 'currentLoad'),
    withTimeout(si.mem(), ms, 'mem'),
    withTimeout(si.fsSize(), ms, 'fsSize'),
    withTimeout(si.networkStats('*'), ms, 'networkStats'),
  ]);
  if (load.status === 'rejected') throw load.reason;
  if (mem.status === 'rejected') throw mem.reason;
  if (fs.status === 'rejected') opts.onPartialFailure?.({ part: 'disks', error: fs.reason });
  if (net.status === 'rejected') opts.onPartialFailure?.({ part: 'network', error: net.reason });

  const m = mem.value;
  const total = toBytes(m.total);
  // "used" in systeminformation counts page cache on Linux; total - available is what a person means.
  const available = Math.min(total, toBytes(m.available));
  const sample: MetricSample = {
    cpu: {
      loadPercent: toPercent(load.value.currentLoad),
      perCorePercent: load.value.cpus.slice(0, 1024).map((c) => toPercent(c.load)),
    },
    memory: {
      totalBytes: total,
      usedBytes: total - available,
      availableBytes: available,
      swapTotalBytes: toBytes(m.swaptotal),
      swapUsedBytes: toBytes(m.swapused),
    },
    disks: (fs.status === 'fulfilled' ? fs.value : []).slice(0, MAX_ITEMS).map((d) => ({
      mount: toText(d.mount, 512),
      fs: toText(d.fs, 512),
      type: toText(d.type, 64),
      sizeBytes: toBytes(d.size),
      usedBytes: toBytes(d.used),
    })),
    network: (net.status === 'fulfilled' ? net.value : []).slice(0, MAX_ITEMS).map((n) => ({
      iface: toText(n.iface, 128),
      rxBytes: toBytes(n.rx_bytes),
      txBytes: toBytes(n.tx_bytes),
      rxBytesPerSec: toRate(n.rx_sec),
      txBytesPerSec: toRate(n.tx_sec),
      rxErrors: toBytes(n.rx_errors),
      txErrors: toBytes(n.tx_errors),
    })),
    // os.uptime() is what si.time() reports, without the shell it spawns (`date`, `ls`) and the
    // Intl time-zone lookup, which maps ~8 MB of ICU data into the process for good.
    uptimeSec: toNonNegative(uptime()),
  };
  return metricSampleSchema.parse(sample);
}
