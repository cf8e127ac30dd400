import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, DocumentStore, LogEntry } from './types.ts';

const HOUR_MS = 60 * 60 * 1000;
const logId = (...parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);

function logEntry(overrides: Partial<LogEntry> & Pick<LogEntry, 'timestamp'>): LogEntry {
  return {
    id: logId(overrides.timestamp.getTime(), overrides.message ?? 'm', overrides.level ?? 'error', Math.random()),
    level: 'error',
    service: 'suite',
    message: 'Failed to collect metrics',
    deviceId: null,
    organizationId: null,
    error: null,
    ...overrides,
  };
}

function auditEntry(overrides: Partial<AuditEntry> & Pick<AuditEntry, 'organizationId' | 'timestamp'>): AuditEntry {
  return { id: randomUUID(), userId: null, action: 'token.create', resourceId: null, details: {}, ipAddress: '127.0.0.1', ...overrides };
}

/**
 * The contract every document adapter keeps, run against each of them: same inputs, same answers.
 * `open` returns an initialised store on an empty (or fresh) database; `cleanup` removes it.
 */
export function describeDocumentStore(name: string, open: () => Promise<{ store: DocumentStore; cleanup: () => Promise<void> }>) {
  describe(`document store: ${name}`, () => {
    let store: DocumentStore;
    let cleanup: () => Promise<void>;
    const orgA = randomUUID();
    const orgB = randomUUID();
    const device = randomUUID();
    const now = Date.now();

    beforeAll(async () => {
      ({ store, cleanup } = await open());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('answers its health check and reports a size', async () => {
      expect((await store.health()).ok).toBe(true);
      expect(await store.sizeBytes()).toBeGreaterThan(0);
    });

    it('keeps every field of a log entry and stores a replayed entry once', async () => {
      const entry = logEntry({
        timestamp: new Date(now - 1_000), deviceId: device, organizationId: orgA, service: 'agent',
        error: { code: 'CONNECTION_TIMEOUT', details: 'no answer after 5 s' }, context: { sink: 'influx', attempt: 3, final: false },
      });
      await store.logs.insert([entry]);
      await store.logs.insert([entry, { ...entry, message: 'a replay must not overwrite' }]);
      const found = await store.logs.find({ deviceId: device, limit: 10 });
      expect(found).toEqual([entry]);
      expect(found[0]!.timestamp).toBeInstanceOf(Date);
    });

    it('answers "errors in the last hour, newest first, 100" with exactly those', async () => {
      const recent = Array.from({ length: 130 }, (_, i) =>
        logEntry({ timestamp: new Date(now - 10_000 - i * 20_000), organizationId: orgB, message: `recent ${i}` }));
      const old = Array.from({ length: 5 }, (_, i) =>
        logEntry({ timestamp: new Date(now - HOUR_MS - 60_000 - i * 1_000), organizationId: orgB, message: `old ${i}` }));
      const warnings = Array.from({ length: 5 }, (_, i) =>
        logEntry({ timestamp: new Date(now - 5_000 - i), level: 'warn', organizationId: orgB, message: `warn ${i}` }));
      // Inserted shuffled: the order must come from the query, not from insertion.
      await store.logs.insert([...old, ...recent.slice(65), ...warnings, ...recent.slice(0, 65)]);

      const since = new Date(now - HOUR_MS);
      const errors = await store.logs.find({ level: 'error', organizationId: orgB, since, limit: 100 });
      expect(errors).toHaveLength(100);
      expect(errors.map((e) => e.message)).toEqual(recent.slice(0, 100).map((e) => e.message));
      expect(errors.every((e) => e.level === 'error' && e.timestamp >= since)).toBe(true);

      const all = await store.logs.find({ level: 'error', since, limit: 100 });
      expect(all.every((e) => e.timestamp >= since && e.level === 'error')).toBe(true);
      expect(await store.logs.find({ level: 'warn', organizationId: orgB, limit: 100 })).toHaveLength(5);
      expect(await store.logs.find({ level: 'error', organizationId: orgB, until: since, limit: 100 })).toHaveLength(5);
    });

    it('queries the audit log by organization, user, action and time, newest first', async () => {
      const alice = randomUUID();
      const bob = randomUUID();
      const entries = [
        auditEntry({ organizationId: orgA, userId: alice, action: 'token.create', timestamp: new Date(now - 3 * HOUR_MS), resourceId: 't1', details: { name: 'laptops', maxUses: 5 } }),
        auditEntry({ organizationId: orgA, userId: alice, action: 'device.delete', timestamp: new Date(now - 2 * HOUR_MS), resourceId: device, details: { deviceName: 'pc-1', reason: 'Decommissioned' } }),
        auditEntry({ organizationId: orgA, userId: bob, action: 'token.create', timestamp: new Date(now - HOUR_MS), resourceId: 't2' }),
        auditEntry({ organizationId: orgB, userId: randomUUID(), action: 'token.create', timestamp: new Date(now - HOUR_MS / 2), resourceId: 't3' }),
      ];
      await store.auditLog.insert(entries);
      await store.auditLog.insert(entries.slice(0, 2));

      const inA = await store.auditLog.find({ organizationId: orgA, limit: 50 });
      expect(inA.map((e) => e.resourceId)).toEqual(['t2', device, 't1']);
      expect(inA[1]).toEqual(entries[1]);
      expect((await store.auditLog.find({ organizationId: orgA, userId: alice, limit: 50 })).map((e) => e.resourceId)).toEqual([device, 't1']);
      expect((await store.auditLog.find({ organizationId: orgA, action: 'token.create', limit: 50 })).map((e) => e.resourceId)).toEqual(['t2', 't1']);
      const window = await store.auditLog.find({ organizationId: orgA, since: new Date(now - 2.5 * HOUR_MS), until: new Date(now - 0.5 * HOUR_MS), limit: 50 });
      expect(window.map((e) => e.resourceId)).toEqual(['t2', device]);
      expect(await store.auditLog.find({ organizationId: orgA, limit: 1 })).toHaveLength(1);
      expect((await store.auditLog.find({ organizationId: orgB, limit: 50 })).map((e) => e.resourceId)).toEqual(['t3']);
    });

    it('expires old logs (by TTL index on MongoDB, by delete otherwise)', async () => {
      const ancient = logEntry({ timestamp: new Date(now - 40 * 24 * HOUR_MS), organizationId: orgA, message: 'ancient' });
      await store.logs.insert([ancient]);
      const removed = await store.expireLogs(new Date(now - 30 * 24 * HOUR_MS));
      const left = await store.logs.find({ organizationId: orgA, until: new Date(now - 30 * 24 * HOUR_MS), limit: 10 });
      if (store.engine === 'mongodb') return; // the TTL monitor runs once a minute on the server
      expect(removed).toBe(1);
      expect(left).toEqual([]);
    });
  });
}
