import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { codeOf, relationalEngines, startHarness, type Harness } from '../../../test-support/index.ts';
import { totpAt } from './totp.ts';
import { SECOND_FACTOR_REQUIRED, WRONG_SECOND_FACTOR } from './two-factor.ts';

const PASSWORD = 'correct horse battery staple';
const STEP_MS = 30_000;

async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'success';
  } catch (error) {
    return error instanceof TRPCClientError ? error.message : String(error);
  }
}

/** Two-step login with TOTP and recovery codes, the organization's requirement, and the sessions page, on a real server. */
describe.each(relationalEngines().map((relational) => ({ relational, cache: relational === 'postgres' && process.env.REDIS_URL ? 'redis' as const : 'memory' as const })))(
  'two-factor sign-in on $relational + $cache',
  ({ relational, cache }) => {
    let h: Harness;
    /** The admin's recovery codes, for logging in again in later cases. */
    let adminRecovery: string[] = [];
    const emails = { admin: `admin@2fa-${relational}.test`, tech: `tech@2fa-${relational}.test` };
    const login = (email: string, code?: string) => h.http().auth.login.mutate({ email, password: PASSWORD, ...(code ? { code } : {}) });
    const as = (token: string) => h.http({ authorization: `Bearer ${token}` });

    beforeAll(async () => {
      h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
      const org = await h.admin.admin.organizations.create.mutate({ name: `2fa-${relational}` });
      await h.admin.admin.users.create.mutate({ org: org.id, email: emails.admin, password: PASSWORD, role: 'admin' });
      await h.admin.admin.users.create.mutate({ org: org.id, email: emails.tech, password: PASSWORD, role: 'technician' });
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
    });

    it('turns TOTP on with a scanned secret, then asks for a code at every login, each code and recovery code once', async () => {
      const first = as((await login(emails.admin)).sessionToken);
      const { secret, uri } = await first.twoFactor.begin.mutate();
      expect(uri).toContain(`secret=${secret}`);
      expect(await codeOf(first.twoFactor.confirm.mutate({ code: '000000' }))).toBe('BAD_REQUEST');
      const confirmedAt = Date.now();
      const { recoveryCodes } = await first.twoFactor.confirm.mutate({ code: totpAt(secret, confirmedAt) });
      expect(recoveryCodes).toHaveLength(10);
      adminRecovery = recoveryCodes;
      expect(await first.twoFactor.status.query()).toMatchObject({ enabled: true, recoveryCodesLeft: 10 });

      expect(await messageOf(login(emails.admin))).toBe(SECOND_FACTOR_REQUIRED);
      expect(await messageOf(login(emails.admin, '123456'))).toBe(WRONG_SECOND_FACTOR);
      // The confirming code's step is spent; the next step's code (within the window) is not.
      expect(await messageOf(login(emails.admin, totpAt(secret, confirmedAt)))).toBe(WRONG_SECOND_FACTOR);
      const next = totpAt(secret, confirmedAt + STEP_MS);
      expect((await login(emails.admin, next)).sessionToken).toMatch(/^ns_/);
      expect(await messageOf(login(emails.admin, next))).toBe(WRONG_SECOND_FACTOR);

      const recovery = recoveryCodes[0]!;
      expect((await login(emails.admin, recovery.toUpperCase())).sessionToken).toMatch(/^ns_/);
      expect(await messageOf(login(emails.admin, recovery))).toBe(WRONG_SECOND_FACTOR);
      expect(await first.twoFactor.status.query()).toMatchObject({ recoveryCodesLeft: 9 });
      // Only hashes are stored.
      const { rows } = await h.server.services.db.query<{ code_hash: string }>('SELECT code_hash FROM recovery_codes');
      expect(rows.some((row) => recoveryCodes.some((code) => row.code_hash.includes(code)))).toBe(false);
    });

    it('lists a person\'s sessions and revokes one of them', async () => {
      const a = await login(emails.tech);
      const b = await login(emails.tech);
      const sessions = await as(a.sessionToken).auth.sessions.query();
      expect(sessions.length).toBeGreaterThanOrEqual(2);
      expect(sessions.filter((session) => session.current)).toHaveLength(1);
      const other = (await as(b.sessionToken).auth.sessions.query()).find((session) => session.current)!;
      await as(a.sessionToken).auth.revokeSession.mutate({ session: other.id });
      expect(await codeOf(as(b.sessionToken).auth.me.query())).toBe('UNAUTHORIZED');
      expect((await as(a.sessionToken).auth.me.query()).email).toBe(emails.tech);
      expect(await codeOf(as(a.sessionToken).auth.revokeSession.mutate({ session: other.id }))).toBe('NOT_FOUND');
    });

    it('holds people without a second factor to setting one up when their organization requires it', async () => {
      const admin = await login(emails.admin, adminRecovery[1]);
      await as(admin.sessionToken).twoFactor.setRequired.mutate({ required: true });
      const restricted = as((await login(emails.tech)).sessionToken);
      expect((await restricted.auth.me.query()).restricted).toBe('two_factor_setup');
      expect(await codeOf(restricted.devices.list.query({}))).toBe('FORBIDDEN');
      const { secret } = await restricted.twoFactor.begin.mutate();
      const confirmed = await restricted.twoFactor.confirm.mutate({ code: totpAt(secret, Date.now()) });
      expect(confirmed.sessionToken).toMatch(/^ns_/);
      expect(await codeOf(restricted.auth.me.query())).toBe('UNAUTHORIZED');
      const full = as(confirmed.sessionToken!);
      expect((await full.devices.list.query({})).items).toEqual([]);
      expect(await codeOf(full.twoFactor.disable.mutate({ code: totpAt(secret, Date.now() + STEP_MS) }))).toBe('FORBIDDEN');
      await as(admin.sessionToken).twoFactor.setRequired.mutate({ required: false });
    });
  },
);
