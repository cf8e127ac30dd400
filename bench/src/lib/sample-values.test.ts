import { describe, expect, it } from 'vitest';
import { machineShape, makeSample } from '../fleet/sample.ts';
import { machineValueKeys, meanValuesPerSample, sampleValues } from './sample-values.ts';

describe('how a sample maps to values', () => {
  it('counts every measured number once: load, each core, memory, each disk twice, each interface six times, uptime', () => {
    for (let index = 0; index < 50; index++) {
      const shape = machineShape(index);
      const values = sampleValues(makeSample(shape, 7, 100));
      expect(values.length).toBe(1 + shape.cores + 5 + 2 * shape.disks.length + 6 * shape.ifaces.length + 1);
      expect(new Set(values.map((value) => value.key)).size).toBe(values.length);
      expect(values.every((value) => Number.isFinite(value.value))).toBe(true);
    }
  });

  it('names values the same in every sample of a machine, so each is one Zabbix item', () => {
    const keys = machineValueKeys(3);
    expect(sampleValues(makeSample(machineShape(3), 500, 9_000)).map((value) => value.key)).toEqual(keys);
  });

  it('leaves out a rate the agent could not compute yet', () => {
    const sample = makeSample(machineShape(0), 1, 1);
    const first = { ...sample, network: sample.network.map((iface) => ({ ...iface, rxBytesPerSec: null, txBytesPerSec: null })) };
    expect(sampleValues(first).length).toBe(sampleValues(sample).length - 2 * sample.network.length);
  });

  it('averages over the fleet\'s machines', () => {
    expect(meanValuesPerSample(1)).toBe(machineValueKeys(0).length);
    expect(meanValuesPerSample(2)).toBe((machineValueKeys(0).length + machineValueKeys(1).length) / 2);
  });
});
