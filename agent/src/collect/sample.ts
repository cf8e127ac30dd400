import { uptime } from 'node:os';
import { metricSampleSchema, type MetricSample } from '@ninjait/shared';
import { createProcParts } from './linux/index.ts';
import { toNonNegative, withTimeout } from './num.ts';
import { withFallback, type PartFallback, type SampleParts } from './parts.ts';
import { createSystemInformationParts } from './si-parts.ts';

export const DEFAULT_PROBE_TIMEOUT_MS = 20_000;

/** A part of the sample that could not be read; the rest of the sample is still sent. */
export interface PartialFailure {
  part: 'disks' | 'network';
  error: unknown;
}

export interface SamplerOptions {
  timeoutMs?: number;
  onPartialFailure?: (f: PartialFailure) => void;
  /** Called once for each part whose primary source failed and is now read by systeminformation. */
  onFallback?: (f: PartFallback) => void;
  /** The first-choice source; by default the kernel's files on Linux, none elsewhere. */
  primary?: SampleParts | null;
}

let systemInformation: SampleParts | undefined;
let procParts: SampleParts | undefined;
// One of each per process: they hold the previous counters that loads and rates are computed from.
const systemInformationParts = () => (systemInformation ??= createSystemInformationParts());
const defaultPrimary = () => (process.platform === 'linux' ? (procParts ??= createProcParts()) : null);

/**
 * A function that measures the machine once and returns a sample that passes
 * `metricSampleSchema`. CPU and memory are essential: if they fail, it rejects. Disks and
 * network degrade to an empty list, reported through `onPartialFailure`, so one bad probe does
 * not cost the sample. Network rates are null on the first reading in a process.
 */
export function createSampler(opts: SamplerOptions = {}): () => Promise<MetricSample> {
  const ms = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const primary = opts.primary === undefined ? defaultPrimary() : opts.primary;
  const parts = primary ? withFallback(primary, systemInformationParts(), opts.onFallback) : systemInformationParts();
  return async () => {
    const [cpu, memory, disks, network] = await Promise.allSettled([
      withTimeout(parts.cpu(), ms, 'cpu'),
      withTimeout(parts.memory(), ms, 'memory'),
      withTimeout(parts.disks(), ms, 'disks'),
      withTimeout(parts.network(), ms, 'network'),
    ]);
    if (cpu.status === 'rejected') throw cpu.reason;
    if (memory.status === 'rejected') throw memory.reason;
    if (disks.status === 'rejected') opts.onPartialFailure?.({ part: 'disks', error: disks.reason });
    if (network.status === 'rejected') opts.onPartialFailure?.({ part: 'network', error: network.reason });
    const sample: MetricSample = {
      cpu: cpu.value,
      memory: memory.value,
      disks: disks.status === 'fulfilled' ? disks.value : [],
      network: network.status === 'fulfilled' ? network.value : [],
      // os.uptime() is what si.time() reports, without the shell it spawns (`date`, `ls`) and the
      // Intl time-zone lookup, which maps ~8 MB of ICU data into the process for good.
      uptimeSec: toNonNegative(uptime()),
    };
    return metricSampleSchema.parse(sample);
  };
}

/** One sample with the default sources (see `createSampler`). */
export function collectSample(opts: Omit<SamplerOptions, 'primary'> = {}): Promise<MetricSample> {
  return createSampler(opts)();
}
