import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SqlExecutor } from '@ninjait/server/stores/relational';

/**
 * Constant-time logins, proven by the code path rather than a stopwatch (timings on a shared CI
 * machine are too noisy to assert): an unknown email still runs the full scrypt verification
 * against dummyPasswordHash(), with the same parameters as a real hash; a wrong password on a real
 * account sends the database exactly what an unknown email does (no counter to update, no lock
 * to read); and every secret comparison uses timingSafeEqual.
 */

vi.mock('@ninjait/server/auth/secrets', async (importOriginal) => {
  const original = await importOriginal<typeof import('@ninjait/server/auth/secrets')>();
  return { ...original, verifyPassword: vi.fn(original.verifyPassword) };
});

const { verifyPassword, hashPassword, dummyPasswordHash, setPasswordHashCost } = await import('@ninjait/server/auth/secrets');
const { authenticate, verifyLogin } = await import('@ninjait/server/domain/users');

/** A users table with at most one row; records the statements it was sent. */
function fakeDb(row: Record<string, unknown> | null): SqlExecutor & { statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    query: async (sql: string) => {
      statements.push(sql);
      // Hand-written SQL says SELECT, Kysely's says select.
      return { rows: /^select\b/i.test(sql.trim()) && row ? [row] : [], rowCount: row ? 1 : 0 } as never;
    },
  } as SqlExecutor & { statements: string[] };
}

const params = (hash: string) => hash.split('$').slice(0, 4).join('$');

describe('constant-time authentication', () => {
  afterEach(() => vi.mocked(verifyPassword).mockClear());

  it('runs scrypt against the dummy hash for an unknown email, with real-hash parameters', async () => {
    await expect(authenticate(fakeDb(null), 'nobody@example.test', 'a guess')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(verifyPassword).toHaveBeenCalledTimes(1);
    expect(verifyPassword).toHaveBeenCalledWith('a guess', dummyPasswordHash());
    // Same N, r, p as a real hash: the dummy costs the same work.
    expect(params(dummyPasswordHash())).toBe(params(await hashPassword('x')));
    // And the dummy hash never verifies (a "user" nobody created cannot log in).
    expect(await vi.mocked(verifyPassword).getMockImplementation()!('', dummyPasswordHash())).toBe(false);
  });

  it('hashes at N = 2^15 unless PASSWORD_HASH_COST says otherwise, and the dummy hash follows the setting', async () => {
    expect(params(await hashPassword('x'))).toBe('scrypt$32768$8$1');
    try {
      setPasswordHashCost(12);
      const cheaper = await hashPassword('x');
      expect(params(cheaper)).toBe('scrypt$4096$8$1');
      expect(params(dummyPasswordHash())).toBe(params(cheaper));
      // A hash verifies with its own parameters, whatever the setting is now.
      setPasswordHashCost(15);
      expect(await verifyPassword('x', cheaper)).toBe(true);
    } finally {
      setPasswordHashCost(15);
    }
    expect(() => setPasswordHashCost(9)).toThrow(RangeError);
    expect(() => setPasswordHashCost(18)).toThrow(RangeError);
  });

  it('answers false for a stored hash whose parameters this server never makes, instead of computing or throwing', async () => {
    const [scheme, , r, p, salt, key] = (await hashPassword('x')).split('$');
    const withN = (n: string, rr = r, pp = p) => [scheme, n, rr, pp, salt, key].join('$');
    for (const stored of [withN(String(2 ** 30)), withN('3'), withN('-1'), withN('NaN'), withN('32768', '1024'), withN('32768', '8', '64')]) {
      expect(await vi.mocked(verifyPassword).getMockImplementation()!('x', stored)).toBe(false);
    }
  });

  it('runs the same verification for a wrong password, and answers both alike', async () => {
    const passwordHash = await hashPassword('the right password');
    const db = fakeDb({ id: 'u1', email: 'a@example.test', passwordHash, role: 'viewer', organizationId: 'o1', name: null, createdAt: new Date() });
    const wrong = await authenticate(db, 'a@example.test', 'a guess').catch((error: unknown) => error);
    const unknown = await authenticate(fakeDb(null), 'nobody@example.test', 'a guess').catch((error: unknown) => error);
    expect(verifyPassword).toHaveBeenCalledTimes(2);
    expect(verifyPassword).toHaveBeenNthCalledWith(1, 'a guess', passwordHash);
    expect([(wrong as Error).message, (wrong as { code: string }).code]).toEqual([(unknown as Error).message, (unknown as { code: string }).code]);
  });

  it('sends the database the same statements for a wrong password as for an unknown email, and writes nothing', async () => {
    const passwordHash = await hashPassword('the right password');
    const known = fakeDb({ id: 'u1', email: 'a@example.test', passwordHash, role: 'viewer', organizationId: 'o1', name: null, createdAt: new Date() });
    const unknown = fakeDb(null);
    for (let i = 0; i < 3; i++) {
      expect(await verifyLogin(known, 'a@example.test', `guess ${i}`)).toMatchObject({ ok: false, reason: 'wrong_password' });
      expect(await verifyLogin(unknown, 'nobody@example.test', `guess ${i}`)).toMatchObject({ ok: false, reason: 'unknown_account' });
    }
    expect(known.statements).toEqual(unknown.statements);
    expect(known.statements.every((sql) => /^\s*select\b/i.test(sql))).toBe(true);
    // The right password still opens it, however many wrong ones came before: no lockout in the table.
    expect(await verifyLogin(known, 'a@example.test', 'the right password')).toMatchObject({ ok: true, user: { id: 'u1' } });
  });

  it('compares every secret with timingSafeEqual, never with === on secret material', async () => {
    const source = await readFile(new URL('../../server/src/platform/secrets.ts', import.meta.url), 'utf8');
    expect(source.match(/timingSafeEqual\(/g)?.length).toBeGreaterThanOrEqual(2);
    // The two comparisons: hashed random secrets (tokens, device secrets, local admin) and scrypt keys.
    expect(source).toMatch(/export function secretMatches[\s\S]*?timingSafeEqual\(actual, expected\)/);
    expect(source).toMatch(/export async function verifyPassword[\s\S]*?timingSafeEqual\(actual, expected\)/);
  });
});
