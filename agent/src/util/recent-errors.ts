import type { z } from 'zod';
import type { agentErrorSchema } from '@ninjait/shared';
import { systemClock, type Clock } from './clock.ts';

export type AgentError = z.infer<typeof agentErrorSchema>;

/** Bound of the heartbeat's `errors` array in the shared schema. */
export const MAX_REPORTED_ERRORS = 100;
const MAX_CODE = 64;
const MAX_MESSAGE = 2_000;

/**
 * The agent's own recent failures, kept until a heartbeat delivers them. Bounded: when more
 * pile up than one heartbeat may carry, the oldest go, and `total` still counts them all.
 */
export class RecentErrors {
  private pending: AgentError[] = [];
  /** Every error recorded since start, including ones that were never shipped. */
  total = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  record(code: string, err: unknown): void {
    this.total++;
    const message = err instanceof Error ? err.message : String(err);
    this.pending.push({ at: this.clock.now(), code: code.slice(0, MAX_CODE), message: message.slice(0, MAX_MESSAGE) });
    if (this.pending.length > MAX_REPORTED_ERRORS) this.pending.shift();
  }

  /** A copy of what the next heartbeat should carry. */
  peek(): AgentError[] {
    return this.pending.slice();
  }

  /** Forgets the errors a successful heartbeat delivered (the first `n` of `peek()`'s). */
  shipped(sent: AgentError[]): void {
    this.pending = this.pending.filter((e) => !sent.includes(e));
  }
}
