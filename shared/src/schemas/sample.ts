import { z } from 'zod';

const bytes = z.number().int().nonnegative();
const percent = z.number().min(0).max(100);
/** Per-second rates need two readings, so the first sample after start has none. */
const rate = z.number().nonnegative().nullable();

export const diskUsageSchema = z.object({
  mount: z.string().max(512),
  fs: z.string().max(512),
  type: z.string().max(64),
  sizeBytes: bytes,
  usedBytes: bytes,
}).strict();

export const interfaceTrafficSchema = z.object({
  iface: z.string().max(128),
  rxBytes: bytes,
  txBytes: bytes,
  rxBytesPerSec: rate,
  txBytesPerSec: rate,
  rxErrors: bytes,
  txErrors: bytes,
}).strict();

/** One collection of a device's health, as the agent measured it. */
export const metricSampleSchema = z.object({
  cpu: z.object({ loadPercent: percent, perCorePercent: z.array(percent).max(1024) }).strict(),
  memory: z.object({
    totalBytes: bytes,
    usedBytes: bytes,
    availableBytes: bytes,
    swapTotalBytes: bytes,
    swapUsedBytes: bytes,
  }).strict(),
  disks: z.array(diskUsageSchema).max(256),
  network: z.array(interfaceTrafficSchema).max(256),
  uptimeSec: z.number().nonnegative(),
}).strict();
export type MetricSample = z.infer<typeof metricSampleSchema>;
