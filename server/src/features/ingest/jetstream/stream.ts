import { AckPolicy, DeliverPolicy, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

/** A sink's batch must be written well within this, or JetStream hands the rows to another instance. */
export const ACK_WAIT_MS = 60_000;

export interface IngestStreamSettings {
  stream: string;
  replicas: number;
  duplicateWindowSec: number;
}

/** Where records are published: one subject per device under the stream's name. */
export const recordSubject = (stream: string, deviceId: string) => `${stream}.rec.${deviceId}`;

/** The durable consumer of a sink: every instance binds to it, and JetStream shares the rows among them. */
export const consumerName = (sink: string) => `sink-${sink.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/**
 * Creates (or brings up to date) the stream and one durable consumer per sink, before the
 * first append. The stream keeps every record (limits retention, no limits) until the trimmer
 * (trimmer.ts) purges what every consumer acknowledged; JetStream's interest retention dropped
 * records a consumer had not yet been handed when NATS restarted (see there). A stream made
 * with interest retention by an earlier version keeps it (JetStream does not change a stream's
 * retention): the returned warning says to recreate it.
 */
export async function ensureIngestStream(jsm: JetStreamManager, settings: IngestStreamSettings, sinkNames: readonly string[], maxAckPending: number): Promise<string | null> {
  const config = {
    name: settings.stream,
    subjects: [`${settings.stream}.rec.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: settings.replicas,
    duplicate_window: nanos(settings.duplicateWindowSec * 1000),
  };
  let warning: string | null = null;
  try {
    const existing = await jsm.streams.info(settings.stream);
    if (existing.config.retention !== RetentionPolicy.Limits) {
      warning = `the JetStream stream ${settings.stream} uses ${existing.config.retention} retention, which nats-server 2.9 can lose records under when it restarts: drain it (every sink caught up), delete it and restart, and it is made again with limits retention`;
    }
    const { retention: _unchangeable, ...changeable } = config;
    await jsm.streams.update(settings.stream, changeable);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.streams.add(config);
  }
  for (const sink of sinkNames) {
    const consumer = {
      durable_name: consumerName(sink), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      // Unlimited: JetStream would drop a row at max_deliver, and an advisory is no durable record.
      // The drainer counts deliveries itself and quarantines (see drainer.ts).
      max_deliver: -1, max_ack_pending: maxAckPending,
    };
    try {
      await jsm.consumers.info(settings.stream, consumer.durable_name);
      await jsm.consumers.update(settings.stream, consumer.durable_name, { ack_wait: consumer.ack_wait, max_deliver: -1, max_ack_pending: maxAckPending });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.consumers.add(settings.stream, consumer);
    }
  }
  return warning;
}

function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError ? error.status === 404 || /not found/i.test(error.message) : /not found/i.test(String(error));
}
