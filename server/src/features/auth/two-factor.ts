import { randomBytes } from 'node:crypto';
import { SECOND_FACTOR_REQUIRED } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { hashSecret } from '../../platform/secrets.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { base32Encode, matchTotp, newTotpSecret, otpauthUri } from './totp.ts';
import {
  clearSecondFactor, confirmSecret, secondFactorState, setPendingSecret, setRecoveryCodes, spendRecoveryCode, spendStep,
} from './two-factor-repository.ts';

export const RECOVERY_CODE_COUNT = 10;
export { SECOND_FACTOR_REQUIRED };
export const WRONG_SECOND_FACTOR = 'Wrong or already used code';

/** 80 random bits as 4 groups of 4 base32 characters: typed from paper, kept as SHA-256. */
function newRecoveryCode(): string {
  return base32Encode(randomBytes(10)).toLowerCase().match(/.{4}/g)!.join('-');
}
const normalizeRecoveryCode = (code: string) => code.replace(/[\s-]/g, '').toUpperCase();

function freshRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  return { codes, hashes: codes.map((code) => hashSecret(normalizeRecoveryCode(code))) };
}

/** What a login must ask for after the password. */
export type SecondFactorNeed = 'none' | 'code' | 'setup';

/** TOTP (RFC 6238) second factors with single-use recovery codes; the clock is injectable for tests. */
export function createTwoFactor(db: RelationalStore, now: () => number = Date.now) {
  /** True when `code` is a current TOTP code (spending its step) or an unused recovery code (spending it). */
  async function spend(userId: string, secret: string, lastStep: number | null, code: string): Promise<boolean> {
    const trimmed = code.trim();
    const step = matchTotp(secret, trimmed, now(), lastStep);
    if (step !== null) return spendStep(db, userId, step);
    if (/^\d+$/.test(trimmed)) return false;
    return spendRecoveryCode(db, userId, hashSecret(normalizeRecoveryCode(trimmed)));
  }

  return {
    async status(userId: string) {
      const state = await secondFactorState(db, userId);
      return { enabled: state.totpSecret !== null, recoveryCodesLeft: state.recoveryCodesLeft, organizationRequires: state.organizationRequires };
    },
    /** Whether this person's login needs a code now, or must set one up first. */
    async need(userId: string): Promise<SecondFactorNeed> {
      const state = await secondFactorState(db, userId);
      return state.totpSecret ? 'code' : state.organizationRequires ? 'setup' : 'none';
    },
    /** Checks the code at login; throws UNAUTHORIZED when it is missing or wrong. */
    async verifyLogin(userId: string, code: string | undefined): Promise<void> {
      const state = await secondFactorState(db, userId);
      if (!state.totpSecret) return;
      if (!code) throw new AppError('UNAUTHORIZED', SECOND_FACTOR_REQUIRED);
      if (!(await spend(userId, state.totpSecret, state.lastStep, code))) throw new AppError('UNAUTHORIZED', WRONG_SECOND_FACTOR);
    },
    /** A new secret to scan; it replaces the one in use only once a code from it is confirmed. */
    async begin(userId: string, account: string): Promise<{ secret: string; uri: string }> {
      const secret = newTotpSecret();
      await setPendingSecret(db, userId, secret);
      return { secret, uri: otpauthUri(secret, account) };
    },
    /** Turns the scanned secret on when `code` comes from it; answers the recovery codes, shown once. */
    async confirm(userId: string, code: string): Promise<{ recoveryCodes: string[] }> {
      const state = await secondFactorState(db, userId);
      const step = state.pendingSecret ? matchTotp(state.pendingSecret, code.trim(), now(), null) : null;
      if (!state.pendingSecret || step === null) throw new AppError('BAD_REQUEST', 'That code does not match: scan the new QR code and try the current code');
      const { codes, hashes } = freshRecoveryCodes();
      if (!(await confirmSecret(db, userId, state.pendingSecret, step, hashes))) throw new AppError('CONFLICT', 'The setup changed meanwhile: start again');
      return { recoveryCodes: codes };
    },
    /** New recovery codes, the old ones void; needs a current code. */
    async regenerate(userId: string, code: string): Promise<{ recoveryCodes: string[] }> {
      const state = await secondFactorState(db, userId);
      if (!state.totpSecret) throw new AppError('BAD_REQUEST', 'Two-factor sign-in is not on');
      if (!(await spend(userId, state.totpSecret, state.lastStep, code))) throw new AppError('BAD_REQUEST', WRONG_SECOND_FACTOR);
      const { codes, hashes } = freshRecoveryCodes();
      await setRecoveryCodes(db, userId, hashes);
      return { recoveryCodes: codes };
    },
    /** Turns it off with a current code, unless the organization requires it. */
    async disable(userId: string, code: string): Promise<void> {
      const state = await secondFactorState(db, userId);
      if (!state.totpSecret) return;
      if (state.organizationRequires) throw new AppError('FORBIDDEN', 'Your organization requires two-factor sign-in');
      if (!(await spend(userId, state.totpSecret, state.lastStep, code))) throw new AppError('BAD_REQUEST', WRONG_SECOND_FACTOR);
      await clearSecondFactor(db, userId);
    },
  };
}
export type TwoFactor = ReturnType<typeof createTwoFactor>;
