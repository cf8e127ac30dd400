import type { MetricSample } from '@ninjait/shared';

export type SamplePart = 'cpu' | 'memory' | 'disks' | 'network';

/** Where each part of a sample comes from: the kernel's files on Linux, systeminformation elsewhere. */
export interface SampleParts {
  cpu(): Promise<MetricSample['cpu']>;
  memory(): Promise<MetricSample['memory']>;
  disks(): Promise<MetricSample['disks']>;
  network(): Promise<MetricSample['network']>;
}

/** A part whose primary source failed and is read from the fallback from then on. */
export interface PartFallback {
  part: SamplePart;
  error: unknown;
}

/**
 * Each part from `primary` until it first throws, then from `fallback` for good: a kernel
 * file that cannot be read (a locked-down container, an unexpected format) will not come back,
 * and trying it every interval would only repeat the warning. `onFallback` runs once per part.
 */
export function withFallback(primary: SampleParts, fallback: SampleParts, onFallback: (f: PartFallback) => void = () => {}): SampleParts {
  const failed = new Set<SamplePart>();
  const part = <K extends SamplePart>(name: K): SampleParts[K] => (async () => {
    if (!failed.has(name)) {
      try {
        return await primary[name]();
      } catch (error) {
        failed.add(name);
        onFallback({ part: name, error });
      }
    }
    return fallback[name]();
  }) as SampleParts[K];
  return { cpu: part('cpu'), memory: part('memory'), disks: part('disks'), network: part('network') };
}
