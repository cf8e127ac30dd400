import { describe, expect, it } from 'vitest';
import { auditSentence, deviceIdsOf, type AuditEntryLike, type AuditNames } from './audit-text.ts';
import { count, counted } from './format.ts';

const ANNA = '11111111-1111-4111-8111-111111111111';
const WEB = '22222222-2222-4222-8222-222222222222';
const names: AuditNames = {
  meId: '99999999-9999-4999-8999-999999999999',
  person: (id) => (id === ANNA ? 'Anna' : null),
  device: (id) => (id === WEB ? 'web-01' : null),
};
const entry = (action: string, details: Record<string, unknown> = {}, userId: string | null = ANNA, resourceId: string | null = null): AuditEntryLike =>
  ({ action, userId, resourceId, details });

describe('audit entries as sentences', () => {
  it('names people and devices the console knows, and never shows a bare id', () => {
    expect(auditSentence(entry('command.run', { deviceId: WEB, script: 'uname -a' }), names)).toBe('Anna ran `uname -a` on web-01');
    expect(auditSentence(entry('command.run', { deviceId: WEB, script: 'echo one\necho two' }, names.meId!), names)).toBe('You ran `echo one…` on web-01');
    const unknown = auditSentence(entry('device.delete', { name: 'old-pc' }, '33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444'), names);
    expect(unknown).toBe('Someone no longer listed decommissioned old-pc');
    expect(unknown).not.toMatch(/[0-9a-f]{8}-/);
  });

  it('says who acted when no person did, and lets an enrolling device be the subject', () => {
    expect(auditSentence(entry('token.create', { name: 'laptops', maxUses: 1, by: 'local-admin' }, null), names))
      .toBe("The server's command line created the enrollment token “laptops” for up to 1 device");
    expect(auditSentence(entry('device.enrolled', { hostname: 'pc-7' }, null, WEB), names)).toBe('The device web-01 enrolled');
    expect(auditSentence(entry('auth.login_failed', { email: 'a@b.test', reason: 'wrong_password', failuresThisMinuteFromAddress: 1 }, null), names))
      .toBe('Someone failed to log in as a@b.test (wrong password)');
    expect(auditSentence(entry('user.update', { email: 'bo@b.test', from: 'viewer', role: 'admin' }), names)).toBe('Anna changed the role of bo@b.test from viewer to admin');
    expect(auditSentence(entry('something.new'), names)).toBe('Anna did “Something new”');
  });

  it('finds the device ids an entry names, for one look-up of their names', () => {
    expect(deviceIdsOf(entry('device.replaced', { replacedDeviceId: WEB }, ANNA, ANNA))).toEqual([WEB, ANNA]);
    expect(deviceIdsOf(entry('ticket.close', { deviceId: 'not-an-id' }))).toEqual([]);
  });

  it('counts in words that agree with the number', () => {
    expect([counted(1, 'device'), counted(2, 'device'), counted(0, 'device'), counted(1204, 'person', 'people')]).toEqual(['1 device', '2 devices', '0 devices', `${count(1204)} people`]);
  });
});
