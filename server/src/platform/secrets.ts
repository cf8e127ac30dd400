import { createHash, randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';

/** A random secret for tokens, device secrets and session ids: 256 bits, URL-safe. */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/**
 * Hash for high-entropy random secrets (tokens, device secrets, session ids). A slow KDF
 * adds nothing against 256-bit secrets and would cost every agent reconnect ~50 ms of CPU.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// scrypt N=2^15, r=8, p=1: OWASP's recommended floor: 50-160 ms of a core by machine (162 ms on a 2-vCPU CI machine).
export const DEFAULT_PASSWORD_HASH_COST = 15;
/** PASSWORD_HASH_COST's range: 2^10 (about 5 ms, for test runs) to 2^17 (128 MiB of memory per check). */
export const MIN_PASSWORD_HASH_COST = 10;
export const MAX_PASSWORD_HASH_COST = 17;
const SCRYPT = { r: 8, p: 1 } as const;
/** What scrypt needs for N (128·N·r bytes), with room: Node refuses a computation over `maxmem`. */
const memoryFor = (N: number) => 2 * 128 * N * SCRYPT.r;
const KEY_BYTES = 32;

/**
 * log2 of scrypt's N for new hashes (PASSWORD_HASH_COST, set once at start). Process-wide because
 * a hash describes its own parameters: whatever made a stored hash, it verifies with them, so
 * servers with different settings share one users table. The test runner lowers it (hashing is
 * most of the CPU of the suites that sign people in); a deployment may raise it.
 */
let scryptN = 1 << DEFAULT_PASSWORD_HASH_COST;

export function setPasswordHashCost(log2N: number): void {
  if (!Number.isInteger(log2N) || log2N < MIN_PASSWORD_HASH_COST || log2N > MAX_PASSWORD_HASH_COST) {
    throw new RangeError(`password hash cost ${log2N} is not an integer from ${MIN_PASSWORD_HASH_COST} to ${MAX_PASSWORD_HASH_COST}`);
  }
  scryptN = 1 << log2N;
}

function scryptAsync(password: BinaryLike, salt: BinaryLike, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$key`: a hash names its own parameters, so they can be raised later. */
const hashText = (N: number, salt: string, key: string) => `scrypt$${N}$${SCRYPT.r}$${SCRYPT.p}$${salt}$${key}`;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, { ...SCRYPT, N: scryptN, maxmem: memoryFor(scryptN) });
  return hashText(scryptN, salt.toString('base64'), key.toString('base64'));
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  // Parameters past what this server makes are refused, not computed: a stored row must not be
  // able to ask for gigabytes or minutes.
  const N = Number(n);
  const powerOfTwo = Number.isInteger(N) && N >= 2 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > 1 << MAX_PASSWORD_HASH_COST || Number(r) !== SCRYPT.r || Number(p) !== SCRYPT.p) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), { N, r: SCRYPT.r, p: SCRYPT.p, maxmem: memoryFor(N) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash to compare against when the user does not exist, so timing does not reveal it: with
 * the parameters new hashes get, so an unknown email costs what an account made here does.
 */
export function dummyPasswordHash(): string {
  return hashText(scryptN, 'AAAAAAAAAAAAAAAAAAAAAA==', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
}
