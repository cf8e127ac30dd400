import type { SqlExecutor } from '../../stores/relational/index.ts';
import { hashSecret } from '../../platform/secrets.ts';
import { tokenRefusal } from './enrollment-tokens.ts';
import { reserveTokenUses, returnTokenUse } from './repository.ts';

/** Takes of one token a statement carries at most, so one answer never settles an unbounded crowd. */
const TAKES_PER_STATEMENT = 256;

/** A token's use taken for an enrollment: which token paid, and the organization it enrolls into. */
export interface TakenUse {
  tokenId: string;
  organizationId: string;
}

/**
 * The uses enrollments take of their tokens. A use is taken before the enrollment's transaction,
 * not in it: held to that transaction's commit, the token's row made every enrollment of a fleet
 * wait for the one before it to reach the disk. An enrollment that fails after this gives the use
 * back; one lost in a crash is a use spent for nothing, never a device beyond the token's `maxUses`.
 */
export interface TokenUses {
  /** One use of the token, or the UNAUTHORIZED error that says why it cannot be used. */
  take(token: string): Promise<TakenUse>;
  /** Gives back a use taken for an enrollment that could not finish. */
  giveBack(tokenId: string): Promise<void>;
}

interface Waiting {
  resolve(use: TakenUse): void;
  reject(error: unknown): void;
}

/**
 * Takes of one token that arrive while a statement for it runs wait and go together in the next
 * one, which counts all their uses at once (as many as the token has left): a roll-out of one
 * token costs a statement per burst, not per machine, and a lone enrollment waits for nothing.
 * Those the token has no use left for are refused in order of arrival, as one at a time would.
 */
export function createTokenUses(db: SqlExecutor): TokenUses {
  /** Takes not yet sent, by token hash; a hash is here only while takes of it wait. */
  const waiting = new Map<string, Waiting[]>();
  /** Token hashes whose statement is running. */
  const taking = new Set<string>();

  async function takeTogether(tokenHash: string, takes: readonly Waiting[]): Promise<void> {
    try {
      const reserved = await reserveTokenUses(db, tokenHash, takes.length);
      const granted = reserved ? Math.min(reserved.granted, takes.length) : 0;
      for (const take of takes.slice(0, granted)) take.resolve({ tokenId: reserved!.id, organizationId: reserved!.organizationId });
      if (granted < takes.length) {
        const refusal = await tokenRefusal(db, tokenHash);
        for (const take of takes.slice(granted)) take.reject(refusal);
      }
    } catch (error) {
      // Only those not yet settled see the error (settling twice does nothing).
      for (const take of takes) take.reject(error);
    }
  }

  function sendNext(tokenHash: string): void {
    const queue = waiting.get(tokenHash);
    if (!queue) return;
    const takes = queue.splice(0, TAKES_PER_STATEMENT);
    if (queue.length === 0) waiting.delete(tokenHash);
    taking.add(tokenHash);
    void takeTogether(tokenHash, takes).finally(() => {
      taking.delete(tokenHash);
      sendNext(tokenHash);
    });
  }

  return {
    take(token) {
      const tokenHash = hashSecret(token);
      return new Promise<TakenUse>((resolve, reject) => {
        const queue = waiting.get(tokenHash);
        if (queue) queue.push({ resolve, reject });
        else waiting.set(tokenHash, [{ resolve, reject }]);
        if (!taking.has(tokenHash)) sendNext(tokenHash);
      });
    },
    giveBack: (tokenId) => returnTokenUse(db, tokenId),
  };
}
