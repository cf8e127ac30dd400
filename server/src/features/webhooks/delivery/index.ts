import type { Env } from '../../../platform/config/index.ts';
import type { Logger } from '../../../platform/obs/logger.ts';
import type { Job } from '../../../platform/scheduler/scheduler.ts';
import type { RelationalStore } from '../../../stores/relational/index.ts';
import { createDispatcher, type Dispatcher } from './dispatcher.ts';
import { trimOutbox } from './outbox-repository.ts';
import { closeMailers, type TransportOptions } from './transports.ts';
import type { DestinationSource } from './types.ts';

const SEND_TIMEOUT_MS = 10_000;
const OUTBOX_TRIM_MS = 3_600_000;
const OUTBOX_RETENTION_DAYS = 30;

export function transportOptions(env: Env): TransportOptions {
  return { allowPrivate: env.WEBHOOK_ALLOW_PRIVATE, smtpUrl: env.SMTP_URL, smtpFrom: env.SMTP_FROM, timeoutMs: SEND_TIMEOUT_MS };
}

export interface Delivery {
  dispatcher: Dispatcher;
  jobs: Job[];
  stop(): Promise<void>;
}

/**
 * The one outbox sender of this instance, for every kind of destination, and its upkeep. Every
 * instance runs the dispatcher (rows are claimed under leases, so instances share the outbox
 * without sending twice); the trim runs on one instance at a time.
 */
export function createDelivery(deps: { env: Env; db: RelationalStore; log: Logger; instanceId: string; sources: readonly DestinationSource[]; pollMs?: number }): Delivery {
  const { db } = deps;
  const dispatcher = createDispatcher({ ...deps, transport: transportOptions(deps.env) });
  return {
    dispatcher,
    jobs: [{ name: 'outbox-trim', everyMs: OUTBOX_TRIM_MS, exclusive: true, run: () => trimOutbox(db, OUTBOX_RETENTION_DAYS) }],
    stop: async () => {
      await dispatcher.stop();
      closeMailers();
    },
  };
}

export { sendAndRecord, type Dispatcher } from './dispatcher.ts';
export { checkedAddress, parseChannelUrl } from './address-guard.ts';
export type { SendResult, TransportOptions } from './transports.ts';
export type { Destination, DestinationSource, Message } from './types.ts';
