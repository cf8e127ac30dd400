import { existsSync, readFileSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { backoffMs } from '@ninjait/shared';
import type { Logger } from '../log.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { writePrivateFileAtomic } from '../util/private-files.ts';

const DEFAULT_BASE_MS = 2_000;
const DEFAULT_MAX_MS = 5 * 60_000;
const MAX_REASON = 500;

/** What `status` shows: written by the running agent, read by `status`. */
export const linkStateSchema = z.object({
  credentialsRefused: z.object({ since: z.number(), lastAt: z.number(), reason: z.string().max(MAX_REASON), retryInMs: z.number() }).nullable(),
});
export type LinkState = z.infer<typeof linkStateSchema>;

/** The link state file's content, or null when there is none (or it is unreadable: it is only informative). */
export function readLinkState(file: string): LinkState | null {
  if (!existsSync(file)) return null;
  try {
    const parsed = linkStateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface CredentialRefusalOptions {
  log: Logger;
  /** Where `status` learns about it; nothing is written when absent. */
  stateFile?: string | undefined;
  clock?: Clock;
  /** First retry delay; doubles per step up to `maxMs`. */
  baseMs?: number;
  maxMs?: number;
}

/**
 * The server refusing this device's credentials, as one story instead of an error per failing
 * call: the heartbeat, the command subscription and the socket all report here, and the agent
 * says it once per backoff step (2 s, 4 s, ... 5 min), one line with what to do. Retrying
 * callers wait what `refused()` returns, so each step costs the server one attempt.
 */
export class CredentialRefusal {
  private since: number | null = null;
  private readonly acceptedListeners = new Set<() => void>();
  private step = 0;
  private nextAt = 0;
  private readonly clock: Clock;

  constructor(private readonly opts: CredentialRefusalOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  get active(): boolean {
    return this.since !== null;
  }

  /** Milliseconds until the current step ends: how long a caller should wait before trying again. */
  waitMs(): number {
    return Math.max(0, this.nextAt - this.clock.now());
  }

  /** The server refused the credentials; returns how long to wait before trying again. */
  refused(reason: string): number {
    const now = this.clock.now();
    this.since ??= now;
    if (now >= this.nextAt) {
      // No jitter: the wait is told to a person, and the device has one refusal, not a fleet's.
      const retryInMs = backoffMs(this.step, { baseMs: this.opts.baseMs ?? DEFAULT_BASE_MS, maxMs: this.opts.maxMs ?? DEFAULT_MAX_MS, jitter: 'none' });
      this.step++;
      this.nextAt = now + retryInMs;
      const shortReason = reason.slice(0, MAX_REASON);
      this.opts.log.error(
        { reason: shortReason, retryInMs, refusedForSec: Math.round((now - this.since) / 1000) },
        'the server refuses this device\'s credentials (the device was removed, or its secret replaced): ' +
        'enroll it again with a new token ("ninjait-agent enroll --server URL --token TOKEN"); retrying with backoff meanwhile',
      );
      this.save({ credentialsRefused: { since: this.since, lastAt: now, reason: shortReason, retryInMs } });
    }
    return this.waitMs();
  }

  /** Called when the credentials are accepted again; returns an unsubscribe function. */
  onAccepted(listener: () => void): () => void {
    this.acceptedListeners.add(listener);
    return () => this.acceptedListeners.delete(listener);
  }

  /** An authenticated call went through: the credentials are good (again). */
  accepted(): void {
    if (this.since === null) return;
    this.opts.log.info({ refusedForSec: Math.round((this.clock.now() - this.since) / 1000) }, 'the server accepts this device\'s credentials again');
    this.since = null;
    this.step = 0;
    this.nextAt = 0;
    this.save(null);
    for (const listener of this.acceptedListeners) listener();
  }

  private save(state: LinkState | null): void {
    const file = this.opts.stateFile;
    if (!file) return;
    try {
      if (state) writePrivateFileAtomic(file, `${JSON.stringify(state)}\n`);
      else rmSync(file, { force: true });
    } catch (err) {
      // Only `status` reads it; the agent's work must not depend on it.
      this.opts.log.debug({ err: (err as Error).message, file }, 'could not write the link state');
    }
  }
}
