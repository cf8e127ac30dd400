import { deriveMetrics, type PartialSample } from '@ninjait/shared';

/**
 * The few numbers a fleet table needs, computed server-side so thousands of rows stay small.
 * The meanings are `deriveMetrics`': `diskPercent` is the busiest file system's share, the same
 * number the analytics tables keep.
 */
export interface LiveSummary {
  collectedAt: string;
  seq: number;
  cpuPercent: number | null;
  memoryPercent: number | null;
  diskPercent: number | null;
  /** Bytes used over all file systems, as the time-series store keeps it. */
  diskUsedBytes: number | null;
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
  uptimeSec: number | null;
}

/** A device's latest sample as the cache holds it: any part may be missing (older agents and servers). */
export type LatestSample = PartialSample & { seq?: number; collectedAt?: string };

/** Tolerates partial or older payloads: a missing field is null, never a crash. */
export function summarize(latest: LatestSample | null): LiveSummary | null {
  if (!latest?.collectedAt) return null;
  const metrics = deriveMetrics(latest);
  return {
    collectedAt: latest.collectedAt,
    seq: latest.seq ?? 0,
    cpuPercent: metrics.cpuPercent,
    memoryPercent: metrics.memoryPercent,
    diskPercent: metrics.diskPercent,
    diskUsedBytes: metrics.diskUsedBytes,
    rxBytesPerSec: metrics.rxBytesPerSec,
    txBytesPerSec: metrics.txBytesPerSec,
    uptimeSec: metrics.uptimeSec,
  };
}
