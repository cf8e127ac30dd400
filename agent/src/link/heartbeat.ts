import { AGENT_VERSION } from '@ninjait/shared';
import type { Logger } from '../log.ts';
import type { Outbox } from '../outbox/types.ts';
import { callSignal } from '../util/call-signal.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { RecentErrors } from '../util/recent-errors.ts';
import { Wakeup } from '../util/wakeup.ts';
import { classify } from './classify.ts';
import type { AgentApi } from './types.ts';

/** Clock skew worth a warning: timestamps in samples would be off by this much. */
const SKEW_WARN_MS = 60_000;

export interface HeartbeatOptions {
  api: AgentApi & { readonly connected: boolean };
  outbox: Pick<Outbox, 'stats' | 'ackUpTo'>;
  errors: RecentErrors;
  intervalMs: number;
  log: Logger;
  clock?: Clock;
  timeoutMs?: number;
  /** The server announced the keys it will present next (`acceptedServerPins`). */
  onServerPins?: (pins: string[]) => void;
  /** Every reply's `intervalMs`: what the device's settings ask for, undefined when nothing does. */
  onServerInterval?: (intervalMs: number | undefined) => void;
}

/** The heartbeat loop: created idle, driven by `run(signal)`. */
export interface Heartbeat {
  /** The link (re)connected: beat now. */
  connected(): void;
  run(signal: AbortSignal): Promise<void>;
  /** Beats at this interval from now on (the next wait already uses it), and reports it. */
  setIntervalMs(intervalMs: number): void;
}

/**
 * Tells the server the agent is alive on every (re)connect and every interval, with the
 * outbox counters and the agent's own recent errors (forgotten once delivered). The reply's
 * `ackSeq` lets the outbox drop what the server already holds, e.g. after a lost push ack.
 */
export function createHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const { api, outbox, errors, log } = opts;
  const clock = opts.clock ?? systemClock;
  const wakeup = new Wakeup(clock);
  let skewWarned = false;
  let refusedBefore = false;
  let intervalMs = opts.intervalMs;

  const beat = async (signal: AbortSignal) => {
    const { bufferedRecords, bufferedBytes, droppedTotal } = outbox.stats();
    const sent = errors.peek();
    const call = callSignal(signal, opts.timeoutMs ?? 30_000);
    try {
      const out = await api.heartbeat(
        { agentVersion: AGENT_VERSION, intervalMs, bufferedRecords, bufferedBytes, droppedTotal, errors: sent },
        call.signal,
      );
      errors.shipped(sent);
      if (out.ackSeq > 0) outbox.ackUpTo(out.ackSeq);
      if (out.acceptedServerPins) opts.onServerPins?.(out.acceptedServerPins);
      opts.onServerInterval?.(out.intervalMs);
      const skew = out.serverTime - clock.now();
      if (Math.abs(skew) > SKEW_WARN_MS && !skewWarned) {
        skewWarned = true;
        log.warn({ skewMs: skew }, 'local clock differs from the server\'s; sample timestamps will be off');
      }
      log.debug({ ackSeq: out.ackSeq, bufferedRecords, errors: sent.length }, 'heartbeat');
    } catch (err) {
      if (signal.aborted) return;
      const e = classify(err, call.signal);
      // Connection trouble and refused credentials are told by the link (once per backoff step);
      // only a refused heartbeat itself is news here.
      const refused = e.code === 'BAD_REQUEST';
      // Said once per streak: a refused device would otherwise log an error every interval.
      if (refused && !refusedBefore) log.error({ code: e.code, err: e.message }, 'heartbeat refused');
      else log.debug({ code: e.code, err: e.message }, 'heartbeat failed');
      refusedBefore = refused;
      return;
    } finally {
      call.done();
    }
    refusedBefore = false;
  };

  return {
    connected: () => wakeup.wake(),
    async run(signal) {
      while (!signal.aborted) {
        if (api.connected) await beat(signal);
        await wakeup.wait(signal, intervalMs);
      }
    },
    setIntervalMs(next) {
      if (next === intervalMs) return;
      intervalMs = next;
      // Beat now: the server learns the new interval (and so the offline threshold) at once.
      wakeup.wake();
    },
  };
}
