import { z } from 'zod';
import { MAX_BYTES, MAX_CORES_PER_SAMPLE, MAX_SAMPLE_ITEMS, MAX_UPTIME_SEC } from '../constants.ts';
import { boundedText, boundedCount } from './bounds.ts';

const bytes = boundedCount();
const percent = z.number().min(0).max(100);
/** Per-second rates need two readings, so the first sample after start has none. */
const rate = z.number().nonnegative().max(MAX_BYTES).nullable();

export const diskUsageSchema = z.object({
  mount: boundedText(512),
  fs: boundedText(512),
  type: boundedText(64),
  sizeBytes: bytes,
  usedBytes: bytes,
}).strict();

export const interfaceTrafficSchema = z.object({
  iface: boundedText(128),
  rxBytes: bytes,
  txBytes: bytes,
  rxBytesPerSec: rate,
  txBytesPerSec: rate,
  rxErrors: bytes,
  txErrors: bytes,
}).strict();

/**
 * One collection of a device's health, as the agent measured it. Every number is finite and
 * bounded (zod refuses NaN and infinities; the bounds keep sums storable), every string and
 * list has a maximum.
 */
export const metricSampleSchema = z.object({
  cpu: z.object({ loadPercent: percent, perCorePercent: z.array(percent).max(MAX_CORES_PER_SAMPLE) }).strict(),
  memory: z.object({
    totalBytes: bytes,
    usedBytes: bytes,
    availableBytes: bytes,
    swapTotalBytes: bytes,
    swapUsedBytes: bytes,
  }).strict(),
  disks: z.array(diskUsageSchema).max(MAX_SAMPLE_ITEMS),
  network: z.array(interfaceTrafficSchema).max(MAX_SAMPLE_ITEMS),
  uptimeSec: z.number().nonnegative().max(MAX_UPTIME_SEC),
}).strict();
export type MetricSample = z.infer<typeof metricSampleSchema>;
