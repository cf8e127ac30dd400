import type { MetricSample } from '@ninjait/shared';
import { machineShape, makeSample } from '../fleet/sample.ts';

/** One number of a sample under the name a monitoring system would give it (a Zabbix item key). */
export interface SampleValue {
  key: string;
  value: number;
}

/**
 * How one sample maps to values, the unit other monitoring systems count ingest in: every number
 * the agent measured is one value (CPU load and each core's, the five memory figures, each disk's
 * size and used bytes, each interface's six counters and rates, uptime). The strings (mount, device,
 * interface name) only name values; a rate the agent could not yet compute (null) is no value.
 */
export function sampleValues(sample: MetricSample): SampleValue[] {
  const values: SampleValue[] = [{ key: 'cpu.load', value: sample.cpu.loadPercent }];
  sample.cpu.perCorePercent.forEach((value, core) => values.push({ key: `cpu.core[${core}]`, value }));
  for (const [name, value] of Object.entries(sample.memory)) values.push({ key: `memory.${name}`, value });
  for (const disk of sample.disks) {
    values.push({ key: `disk.sizeBytes[${disk.mount}]`, value: disk.sizeBytes }, { key: `disk.usedBytes[${disk.mount}]`, value: disk.usedBytes });
  }
  for (const { iface, ...counters } of sample.network) {
    for (const [name, value] of Object.entries(counters)) if (value !== null) values.push({ key: `net.${name}[${iface}]`, value });
  }
  values.push({ key: 'system.uptime', value: sample.uptimeSec });
  return values;
}

/** The value keys of simulated machine `index` (its shape fixes them: cores, disks, interfaces). */
export function machineValueKeys(index: number): string[] {
  return sampleValues(makeSample(machineShape(index), 1, 1)).map((value) => value.key);
}

/** Values per sample, averaged over simulated machines `0 .. machines - 1` (the fleet's agents). */
export function meanValuesPerSample(machines: number): number {
  let total = 0;
  for (let index = 0; index < machines; index++) total += machineValueKeys(index).length;
  return machines > 0 ? total / machines : 0;
}
