import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../platform/obs/metrics.ts';
import type { AuditEntry } from '../../stores/documents/index.ts';
import { createAudit, scrubDetails, type AuditDeps, type AuditWho } from './audit.ts';

const who: AuditWho = { ip: '198.51.100.4', user: { userId: '11111111-1111-4111-8111-111111111111', organizationId: '22222222-2222-4222-8222-222222222222' } };

function deps(insert: (entries: readonly AuditEntry[]) => Promise<void>) {
  return { documents: { auditLog: { insert, find: async () => [] } }, log: pino({ level: 'silent' }), metrics: createMetrics() } as unknown as AuditDeps;
}

describe('audit', () => {
  it('drops secret-looking keys at any depth', () => {
    expect(scrubDetails({ name: 'x', password: 'p', nested: { apiToken: 't', keep: 1, list: [{ secret: 's', ok: true }] } }))
      .toEqual({ name: 'x', nested: { keep: 1, list: [{ ok: true }] } });
  });

  it('keeps ids that only look like secrets by name (a UUID under an `…Id` key), drops the rest', () => {
    const id = '0b7c4c1e-2f7e-4f4e-9d1a-3c3c3c3c3c3c';
    expect(scrubDetails({ enrollmentTokenId: id, sessionId: id, sessionToken: id, tokenId: 'nit_secret', sessionId2: id }))
      .toEqual({ enrollmentTokenId: id, sessionId: id });
  });

  it('writes who, what and from where', async () => {
    const written: AuditEntry[] = [];
    const entry = await createAudit(deps(async (entries) => void written.push(...entries)))(who, { action: 'device.delete', resourceId: 'd1', details: { reason: 'Decommissioned' } });
    expect(written).toEqual([entry]);
    expect(entry).toMatchObject({ action: 'device.delete', resourceId: 'd1', ipAddress: '198.51.100.4', userId: '11111111-1111-4111-8111-111111111111', details: { reason: 'Decommissioned' } });
  });

  it('does not fail the mutation when the store is down: counts it instead', async () => {
    const down = deps(async () => {
      throw new Error('down');
    });
    expect(await createAudit(down)(who, { action: 'token.create' })).toBeNull();
    expect((await down.metrics.auditWriteFailures.get()).values[0]?.value).toBe(1);
  });
});
