import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../stores/documents/index.ts';
import { createLogger } from '../../platform/obs/logger.ts';
import { createLogShipper, logLineToEntry, shippingDestination, shippingLevel } from './log-shipper.ts';
import { agentErrorLogs } from './agent-errors.ts';

/** A `logs` collection held in memory, that can be told to fail or hang. */
function memoryLogs() {
  const stored = new Map<string, LogEntry>();
  const state = { fail: false, hang: false, calls: 0 };
  return {
    stored, state,
    logs: {
      async insert(entries: readonly LogEntry[]) {
        state.calls++;
        if (state.hang) await new Promise(() => {});
        if (state.fail) throw new Error('store down');
        for (const entry of entries) if (!stored.has(entry.id)) stored.set(entry.id, entry);
      },
      async find() {
        return [...stored.values()];
      },
    },
  };
}

describe('log shipper', () => {
  it('ships warnings and errors with their fields, not info, and never a redacted secret', async () => {
    const shipper = createLogShipper({ flushMs: 60_000 });
    const target = memoryLogs();
    shipper.attach(target);
    const log = createLogger(shippingLevel('silent'), 'ninjait', shippingDestination('silent', shipper));
    const deviceId = randomUUID();
    log.info('not shipped');
    log.warn({ deviceId, sink: 'influx', password: 'hunter2-secret' }, 'sink write failed');
    log.error({ err: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }, 'Failed to collect metrics');
    await shipper.flush();

    const entries = [...target.stored.values()].sort((a, b) => a.level.localeCompare(b.level));
    expect(entries.map((e) => [e.level, e.message])).toEqual([['error', 'Failed to collect metrics'], ['warn', 'sink write failed']]);
    expect(entries[0]!.error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(entries[0]!.error!.details).toContain('connect ECONNREFUSED');
    expect(entries[1]).toMatchObject({ deviceId, service: 'ninjait', context: { sink: 'influx', password: '[redacted]' } });
    expect(JSON.stringify(entries)).not.toContain('hunter2-secret');
  });

  it('never blocks the logger: a hanging store leaves writes instant and the buffer bounded, oldest dropped', async () => {
    const shipper = createLogShipper({ maxBufferedLines: 50, batchSize: 10, flushMs: 60_000 });
    const target = memoryLogs();
    target.state.hang = true;
    shipper.attach(target);
    const started = performance.now();
    for (let i = 0; i < 500; i++) shipper.write(JSON.stringify({ level: 50, time: Date.now(), msg: `line ${i}` }));
    expect(performance.now() - started).toBeLessThan(500);
    expect(shipper.stats.dropped).toBeGreaterThanOrEqual(440);
    expect(shipper.stats.buffered).toBeLessThanOrEqual(50);
  });

  it('keeps lines while the store is down and ships them once it is back', async () => {
    const shipper = createLogShipper({ flushMs: 60_000 });
    const target = memoryLogs();
    target.state.fail = true;
    shipper.attach(target);
    for (let i = 0; i < 5; i++) shipper.write(JSON.stringify({ level: 40, time: Date.now(), msg: `w${i}` }));
    await shipper.flush();
    expect(target.stored.size).toBe(0);
    expect(shipper.stats.failures).toBeGreaterThan(0);
    target.state.fail = false;
    await shipper.flush();
    expect([...target.stored.values()].map((e) => e.message).sort()).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
    await shipper.close();
  });

  it("stores an agent's heartbeat errors with the device, once however often they are resent", () => {
    const device = { deviceId: randomUUID(), organizationId: randomUUID() };
    const errors = [{ at: 1_700_000_000_000, code: 'COLLECT_FAILED', message: 'disk stats timed out' }];
    const first = agentErrorLogs(device, errors);
    expect(agentErrorLogs(device, errors)[0]!.id).toBe(first[0]!.id);
    expect(first[0]).toMatchObject({ level: 'error', service: 'agent', deviceId: device.deviceId, organizationId: device.organizationId,
      timestamp: new Date(errors[0]!.at), error: { code: 'COLLECT_FAILED', details: 'disk stats timed out' } });
    // The heartbeat's own log line maps to the same document.
    const line = JSON.stringify({ level: 40, time: Date.now(), deviceId: device.deviceId, organizationId: device.organizationId, agentError: errors[0], msg: 'agent reported an error' });
    expect(logLineToEntry(line, 'x')).toEqual(first[0]);
  });

  it('keeps the logger verbose enough to ship warnings', () => {
    expect(shippingLevel('error')).toBe('warn');
    expect(shippingLevel('silent')).toBe('warn');
    expect(shippingLevel('debug')).toBe('debug');
  });
});

describe('log shipper shutdown', () => {
  it('does not wait past its timeout for a store that hangs', async () => {
    const shipper = createLogShipper({ flushMs: 60_000, closeTimeoutMs: 200 });
    const target = memoryLogs();
    target.state.hang = true;
    shipper.attach(target);
    shipper.write(JSON.stringify({ level: 50, time: Date.now(), msg: 'last words' }));
    const started = performance.now();
    await shipper.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(target.state.calls).toBeGreaterThan(0);
  });
});
