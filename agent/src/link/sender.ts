import { MAX_PUSH_BYTES, MAX_RECORDS_PER_PUSH } from '@ninjait/shared';
import type { Logger } from '../log.ts';
import type { Outbox } from '../outbox/types.ts';
import { backoffMs } from '@ninjait/shared';
import { callSignal } from '../util/call-signal.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { RecentErrors } from '../util/recent-errors.ts';
import { Wakeup } from '../util/wakeup.ts';
import { classify } from './classify.ts';
import type { AgentApi, LinkError } from './types.ts';
import type { CredentialRefusal } from './refusal.ts';

/** Room left in MAX_PUSH_BYTES for the tRPC envelope and our size estimate's slack. */
const PUSH_ENVELOPE_BYTES = 64 * 1024;

/**
 * Whether a refused push was refused for its records, so halving the batch finds the one to
 * drop. A server that names what it objects to (tRPC's `zodError`) and names something other
 * than `records` (say, a field a newer agent sends and an older server does not know) refused
 * the request, not the data: dropping records one by one would throw the whole queue away, so
 * the sender retries later instead. No detail (an older server, a size limit): the records.
 */
export function blamesRecords(err: LinkError): boolean {
  if (err.code === 'PAYLOAD_TOO_LARGE') return true;
  const data = (err.cause as { data?: { zodError?: unknown } } | undefined)?.data;
  const zodError = data?.zodError as { formErrors?: unknown[]; fieldErrors?: Record<string, unknown> } | null | undefined;
  if (!zodError || typeof zodError !== 'object') return true;
  return Object.keys(zodError.fieldErrors ?? {}).includes('records');
}

export interface SenderOptions {
  outbox: Pick<Outbox, 'oldest' | 'ackUpTo' | 'discard' | 'stats'>;
  api: AgentApi & { readonly connected: boolean };
  log: Logger;
  errors: RecentErrors;
  clock?: Clock;
  maxRecords?: number;
  maxBytes?: number;
  pushTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Wait after the server refused the credentials: a person has to act, so no hammering. */
  unauthorizedDelayMs?: number;
  /**
   * Where a refusal of the credentials is told (once per backoff step, for the whole agent) and
   * how long to wait; without it the sender logs it itself and waits `unauthorizedDelayMs`.
   */
  refusal?: Pick<CredentialRefusal, 'refused'>;
  /**
   * How long a push already in flight when `run`'s signal aborts may still wait for its ack.
   * The server has usually logged the batch by then; cutting the call loses only the ack, and
   * the whole batch is sent again on the next start (harmless, deduplicated, but wasted).
   */
  stopGraceMs?: number;
}

export interface SenderStats {
  pushes: number;
  recordsAcked: number;
  failures: number;
  /** Records the server refused as invalid, dropped so the queue moves on (also in the outbox's dropped total). */
  recordsRefused: number;
  lastAckSeq: number;
}

/** The push loop: created idle, driven by `run(signal)`. */
export interface Sender {
  /** Something was appended: push it if idle. */
  wake(): void;
  /** The link (re)connected: cut any retry wait short. */
  connected(): void;
  run(signal: AbortSignal): Promise<void>;
  stats(): SenderStats;
}

/**
 * Drains the outbox oldest-first, one push in flight: push a batch, wait for the ack, delete
 * what is acked, and go straight on while backlog remains, so a week offline (~20k samples)
 * drains in a few dozen pushes. Idle until an append or a reconnect wakes it.
 */
export function createSender(opts: SenderOptions): Sender {
  const { outbox, api, log, errors } = opts;
  const clock = opts.clock ?? systemClock;
  const maxBytes = opts.maxBytes ?? MAX_PUSH_BYTES - PUSH_ENVELOPE_BYTES;
  const pushTimeoutMs = opts.pushTimeoutMs ?? 60_000;
  const retry = { baseMs: opts.retryBaseMs ?? 1_000, maxMs: opts.retryMaxMs ?? 30_000 };
  const work = new Wakeup(clock);
  const linkUp = new Wakeup(clock);
  const stats: SenderStats = { pushes: 0, recordsAcked: 0, failures: 0, recordsRefused: 0, lastAckSeq: 0 };
  // Halved when the server refuses a batch, to isolate the record it objects to.
  let batchLimit = opts.maxRecords ?? MAX_RECORDS_PER_PUSH;
  let attempt = 0;

  const pushOnce = async (signal: AbortSignal, callParent: AbortSignal): Promise<void> => {
    const batch = outbox.oldest(batchLimit, maxBytes);
    const first = batch[0];
    const last = batch[batch.length - 1];
    if (!first || !last) return;
    const call = callSignal(callParent, pushTimeoutMs);
    const started = clock.now();
    try {
      const { ackSeq } = await api.push({ records: batch }, call.signal);
      const deleted = outbox.ackUpTo(ackSeq);
      stats.pushes++;
      stats.recordsAcked += deleted;
      stats.lastAckSeq = Math.max(stats.lastAckSeq, ackSeq);
      log.debug({ records: batch.length, from: first.seq, to: last.seq, ackSeq, deleted, ms: clock.now() - started }, 'pushed');
      if (ackSeq < first.seq) throw new Error(`server acked ${ackSeq}, below the batch it was sent (${first.seq}..${last.seq})`);
      attempt = 0;
      batchLimit = opts.maxRecords ?? MAX_RECORDS_PER_PUSH;
    } catch (err) {
      if (signal.aborted) return;
      await onFailure(classify(err, call.signal), batch.length, first.seq, signal);
    } finally {
      call.done();
    }
  };

  const onFailure = async (err: ReturnType<typeof classify>, size: number, firstSeq: number, signal: AbortSignal) => {
    stats.failures++;
    if ((err.code === 'BAD_REQUEST' || err.code === 'PAYLOAD_TOO_LARGE') && blamesRecords(err)) {
      if (size > 1) {
        batchLimit = Math.max(1, Math.floor(size / 2));
        log.warn({ code: err.code, err: err.message, size, nextSize: batchLimit }, 'server refused a batch; retrying smaller');
        return;
      }
      // One record the server will never take: keep it and the queue blocks forever.
      if (outbox.discard(firstSeq)) stats.recordsRefused++;
      errors.record('push.refused', err);
      log.error({ seq: firstSeq, code: err.code, err: err.message }, 'server refused a record; dropped it');
      return;
    }
    if (err.code === 'UNAUTHORIZED') {
      errors.record('push.unauthorized', err);
      if (opts.refusal) return void (await linkUp.wait(signal, opts.refusal.refused(err.message)));
      log.error({ err: err.message }, 'server refused this device; re-enroll with "ninjait-agent enroll". Retrying slowly.');
      await linkUp.wait(signal, opts.unauthorizedDelayMs ?? 5 * 60_000);
      return;
    }
    const delay = backoffMs(attempt++, err.code === 'TOO_MANY_REQUESTS' ? { ...retry, baseMs: retry.baseMs * 10 } : retry);
    errors.record(`push.${err.code.toLowerCase()}`, err);
    log.warn({ code: err.code, err: err.message, retryInMs: delay }, 'push failed');
    await linkUp.wait(signal, delay);
  };

  return {
    wake: () => work.wake(),
    connected() {
      attempt = 0;
      linkUp.wake();
      work.wake();
    },
    async run(signal) {
      const callParent = graceAfter(signal, opts.stopGraceMs ?? 0);
      try {
        while (!signal.aborted) {
          if (!api.connected || outbox.stats().bufferedRecords === 0) {
            await work.wait(signal);
            continue;
          }
          await pushOnce(signal, callParent.signal);
        }
      } finally {
        callParent.dispose();
      }
    },
    stats: () => ({ ...stats }),
  };
}

/** A signal that aborts `graceMs` after `parent` does: what calls in flight at a stop run under. */
function graceAfter(parent: AbortSignal, graceMs: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setTimeout(() => controller.abort(parent.reason), graceMs).unref();
  };
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      parent.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      controller.abort(parent.reason);
    },
  };
}
