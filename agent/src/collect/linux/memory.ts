import type { MetricSample } from '@ninjait/shared';
import { toBytes } from '../num.ts';

/** The kB values of /proc/meminfo by field name. */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const match of text.matchAll(/^([\w()]+):\s+(\d+)(?: kB)?$/gm)) fields.set(match[1]!, Number(match[2]) * 1024);
  return fields;
}

/**
 * Memory as systeminformation reports it on Linux: used is total minus MemAvailable (page
 * cache counts as available). Kernels before 3.14 have no MemAvailable: free + buffers + cache
 * + reclaimable slab estimates it.
 */
export function memoryFromMeminfo(text: string): MetricSample['memory'] {
  const fields = parseMeminfo(text);
  const kb = (name: string) => fields.get(name) ?? 0;
  const total = toBytes(kb('MemTotal'));
  if (total === 0) throw new Error('/proc/meminfo has no MemTotal');
  const estimated = kb('MemFree') + kb('Buffers') + kb('Cached') + kb('SReclaimable');
  const available = Math.min(total, toBytes(fields.get('MemAvailable') ?? estimated));
  const swapTotal = toBytes(kb('SwapTotal'));
  return {
    totalBytes: total,
    usedBytes: total - available,
    availableBytes: available,
    swapTotalBytes: swapTotal,
    swapUsedBytes: Math.min(swapTotal, toBytes(swapTotal - kb('SwapFree'))),
  };
}
