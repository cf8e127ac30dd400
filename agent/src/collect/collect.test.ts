import { describe, expect, it } from 'vitest';
import { inventorySchema, metricSampleSchema } from '@ninjait/shared';
import { collectInventory } from './inventory.ts';
import { pickMachineKey } from './machine-key.ts';
import { toBytes, toPercent, toRate, toText } from './num.ts';
import { collectSample } from './sample.ts';

describe('collectSample (the real machine)', () => {
  it('produces a sample that passes the shared schema, with rates from the second one', async () => {
    const first = await collectSample();
    expect(metricSampleSchema.safeParse(first).success).toBe(true);
    expect(first.cpu.perCorePercent.length).toBeGreaterThan(0);
    expect(first.memory.totalBytes).toBeGreaterThan(0);
    expect(first.network.length).toBeGreaterThan(0);
    // Rates need two readings (systeminformation, where it is used, also needs 500 ms between them).
    await new Promise((resolve) => setTimeout(resolve, 600));
    const second = await collectSample();
    expect(metricSampleSchema.safeParse(second).success).toBe(true);
    expect(second.network.every((n) => n.rxBytesPerSec !== null && n.txBytesPerSec !== null)).toBe(true);
  }, 10_000);
});

describe('collectInventory (real systeminformation)', () => {
  it('passes the shared schema and has a machine key that is not the hostname', async () => {
    const inv = await collectInventory();
    expect(inventorySchema.safeParse(inv).success).toBe(true);
    expect(inv.machineKey.length).toBeGreaterThan(0);
    expect(inv.machineKey).not.toBe(inv.hostname);
  }, 60_000);

  it('knows the CPU clock, the mounted file systems and the primary address, as the console shows them', async () => {
    const inv = await collectInventory();
    // Test machines are virtual: no cpufreq, yet the kernel knows the clock.
    expect(inv.cpu.speedGHz).toBeGreaterThan(0);
    expect(inv.filesystems?.some((f) => f.mount === '/' && f.sizeBytes > 0)).toBe(true);
    expect(inv.primaryAddress).toMatch(/^[\d.]+$|:/);
    expect(inv.primaryAddress).not.toMatch(/^127\./);
  }, 60_000);
});

describe('pickMachineKey', () => {
  const macs = ['02:fc:00:00:00:02', '02:FC:00:00:00:01', '00:00:00:00:00:00'];
  it('prefers a real hardware UUID', () => {
    expect(pickMachineKey({ hardwareUuids: ['4C4C4544-0042'], osIds: ['abc'], macs })).toBe('4c4c4544-0042');
  });
  it('skips empty and well-known bogus hardware UUIDs for the OS machine id', () => {
    const bogus = ['', '03000200-0400-0500-0006-000700080009', '00000000-0000-0000-0000-000000000000', 'Not Settable'];
    expect(pickMachineKey({ hardwareUuids: bogus, osIds: ['', 'ABCDEF'], macs })).toBe('abcdef');
  });
  it('falls back to the sorted real MACs, never the hostname', () => {
    expect(pickMachineKey({ hardwareUuids: [''], osIds: [''], macs })).toBe('02:fc:00:00:00:01,02:fc:00:00:00:02');
    expect(pickMachineKey({ hardwareUuids: [], osIds: [], macs: ['00:00:00:00:00:00', ''] })).toBeNull();
  });
  it('hashes a key longer than the schema allows', () => {
    const many = Array.from({ length: 40 }, (_, i) => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`);
    expect(pickMachineKey({ hardwareUuids: [], osIds: [], macs: many })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('number coercions', () => {
  it('makes schema-safe numbers', () => {
    expect(toBytes(12.6)).toBe(13);
    expect(toBytes(Number.NaN)).toBe(0);
    expect(toBytes(-5)).toBe(0);
    expect(toPercent(130)).toBe(100);
    expect(toPercent(-1)).toBe(0);
    expect(toPercent(Number.NaN)).toBe(0);
    expect(toRate(null)).toBeNull();
    expect(toRate(-3)).toBeNull();
    expect(toRate(2.5)).toBe(2.5);
    expect(toText(undefined, 3)).toBe('');
    expect(toText('abcdef', 3)).toBe('abc');
  });
});
