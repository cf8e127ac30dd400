import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../types.ts';
import { lineProtocolBytes, toInfluxPoint } from './influx-store.ts';

const written = (point: MetricPoint) =>
  Buffer.byteLength(toInfluxPoint(point).toLineProtocol({ convertTime: (time) => String((time as Date).getTime()) })!);

/** Values of every shape String(n) has: integers, fractions, tiny and huge (exponent) forms, negatives. */
function anyNumber(i: number): number {
  const shapes = [0, 1, -1, 12.5, 99.99999, 1e-7, 1.5e21, 1e19, 123456789012, Math.PI * i, -i / 7, 2 ** 53, 5e-324];
  return shapes[i % shapes.length]! * (i % 3 === 0 ? 1 : Math.random());
}

describe('line protocol size', () => {
  it('counts the bytes the InfluxDB client writes for a point, to the byte', () => {
    for (let i = 0; i < 2_000; i++) {
      const point: MetricPoint = {
        deviceId: randomUUID(), organizationId: randomUUID(), timestamp: new Date(Math.floor(Math.random() * 4_102_444_800_000)),
        cpu: anyNumber(i), memory: anyNumber(i + 1), diskUsed: anyNumber(i + 2), networkRx: anyNumber(i + 3), networkTx: anyNumber(i + 4), diskPercent: anyNumber(i + 5),
      };
      expect(lineProtocolBytes(point), JSON.stringify(point)).toBe(written(point));
    }
  });

  it('takes the client\'s way for tags that need escaping', () => {
    const point: MetricPoint = {
      deviceId: 'a b,c=d', organizationId: 'é', timestamp: new Date(1_700_000_000_000),
      cpu: 1, memory: 2, diskUsed: 3, networkRx: 4, networkTx: 5, diskPercent: 6,
    };
    expect(lineProtocolBytes(point)).toBe(written(point));
  });
});
