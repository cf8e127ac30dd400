import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RelationalStore } from '../../../stores/relational/index.ts';
import type { Metrics } from '../../../platform/obs/metrics.ts';
import type { Logger } from '../../../platform/obs/logger.ts';
import { createNatsBus, type MessageBus } from '../../../stores/nats/bus.ts';
import { natsHealth, openNats } from '../../../stores/nats/connect.ts';
import type { StoreHealth } from '../../../stores/types.ts';
import type { Drainer } from '../drainer.ts';
import type { IngestLog } from '../ingest-log.ts';
import type { Sink } from '../sinks/types.ts';
import { createJetStreamDrainer } from './drainer.ts';
import { createJetStreamIngestLog } from './log.ts';
import { consumerName, ensureIngestStream } from './stream.ts';
import { trimAcknowledged } from './trimmer.ts';

export { createJetStreamDrainer } from './drainer.ts';
export { createJetStreamIngestLog } from './log.ts';
export { consumerName, ensureIngestStream, recordSubject } from './stream.ts';
export { trimAcknowledged } from './trimmer.ts';

export interface JetStreamIngestSettings {
  url: string;
  stream: string;
  replicas: number;
  duplicateWindowSec: number;
  maxDeliveries: number;
  groupCommitMs: number;
  batchRows: number;
  /** The NATS connection's name, as `nats-server` lists clients. */
  clientName: string;
}

/** The ingest log, its drainers and the command bus on one NATS connection. */
export interface JetStreamIngest {
  log: IngestLog;
  drainer(sink: Sink): Drainer;
  bus: MessageBus;
  /** Rows each sink has not yet acked (pending and in flight), by sink. */
  lagRows(): Promise<Map<string, number>>;
  /** Purges what every consumer acknowledged; answers how many messages went. */
  trim(): Promise<number>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/**
 * Connects, makes sure the stream and each sink's durable consumer exist (before any append,
 * see stream.ts), and builds the log. The NATS connection is closed again if that fails.
 */
export async function openJetStreamIngest(settings: JetStreamIngestSettings, deps: {
  db: RelationalStore; metrics: Metrics; log: Logger; sinkNames: readonly string[];
}): Promise<JetStreamIngest> {
  const nc: NatsConnection = await openNats(settings.url, settings.clientName);
  try {
    const warning = await ensureIngestStream(await jetstreamManager(nc), settings, deps.sinkNames, Math.max(1_000, settings.batchRows * 4));
    if (warning) deps.log.warn({ stream: settings.stream }, warning);
  } catch (error) {
    await nc.close();
    throw error;
  }
  const js = jetstream(nc);
  return {
    log: createJetStreamIngestLog({ js, db: deps.db, stream: settings.stream, groupCommitMs: settings.groupCommitMs, metrics: deps.metrics, log: deps.log }),
    drainer: (sink) => createJetStreamDrainer({
      js, db: deps.db, stream: settings.stream, sink, batchRows: settings.batchRows, maxDeliveries: settings.maxDeliveries,
      metrics: deps.metrics, log: deps.log,
    }),
    bus: createNatsBus(nc, settings.stream),
    async lagRows() {
      const jsm = await jetstreamManager(nc);
      const lags = await Promise.all(deps.sinkNames.map(async (sink) => {
        const info = await jsm.consumers.info(settings.stream, consumerName(sink));
        return [sink, info.num_pending + info.num_ack_pending] as const;
      }));
      return new Map(lags);
    },
    trim: async () => trimAcknowledged(await jetstreamManager(nc), settings.stream),
    health: () => natsHealth(nc),
    async close() {
      await nc.drain().catch(() => nc.close());
    },
  };
}
