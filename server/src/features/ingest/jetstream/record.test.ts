import { describe, expect, it } from 'vitest';
import { fakeSampleRecord } from '../../../../test-support/harness.ts';
import { decodeMessage, encodePush, ROW_ID_STRIDE } from './record.ts';

const device = { deviceId: '11111111-1111-4111-8111-111111111111', organizationId: '22222222-2222-4222-8222-222222222222' };

describe('ingest stream messages', () => {
  it('carries a push in one message, its rows numbered apart within the stream sequence', () => {
    const records = [fakeSampleRecord(7, 1_000), fakeSampleRecord(8, 2_000), fakeSampleRecord(9, 3_000)];
    const encoded = encodePush(device, records, '10.0.0.1', 5_000);
    const decoded = decodeMessage(42, encoded.data);
    expect(decoded).toEqual(encoded.rows(42));
    expect(decoded.map((row) => [row.id, row.seq, row.collectedAt.getTime()])).toEqual([
      [42 * ROW_ID_STRIDE, 7, 1_000], [42 * ROW_ID_STRIDE + 1, 8, 2_000], [42 * ROW_ID_STRIDE + 2, 9, 3_000],
    ]);
    expect(decoded[0]).toMatchObject({ ...device, kind: 'sample', sourceIp: '10.0.0.1', receivedAt: new Date(5_000), payload: records[0]!.sample });
  });

  it('still reads the one-record messages servers wrote before pushes were batched', () => {
    const record = fakeSampleRecord(3, 1_000);
    const old = JSON.stringify({ d: device.deviceId, o: device.organizationId, s: 3, k: 'sample', t: 1_000, r: 2_000, ip: null, p: record.sample });
    expect(decodeMessage(5, old)).toEqual([{
      id: 5 * ROW_ID_STRIDE, ...device, seq: 3, kind: 'sample', collectedAt: new Date(1_000), receivedAt: new Date(2_000), sourceIp: null, payload: record.sample,
    }]);
  });

  it('refuses what is not an ingest message', () => {
    expect(() => decodeMessage(1, '{"hello":"world"}')).toThrow();
    expect(() => decodeMessage(1, JSON.stringify({ v: 2, d: device.deviceId, o: device.organizationId, r: 1, ip: null, x: [] }))).toThrow();
  });
});
