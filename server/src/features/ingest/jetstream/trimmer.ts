import type { JetStreamManager } from '@nats-io/jetstream';

/**
 * The stream forgets what every consumer acknowledged: messages below the lowest ack floor of
 * its durable consumers are purged. This is our own interest retention. JetStream's
 * (RetentionPolicy.Interest) lost records: nats-server 2.9 (Debian 12's) recomputes interest at
 * a restart from the consumers that have stored state, so a consumer that had not yet been
 * handed a message kept no claim to it, and whatever the other consumers had acked was dropped
 * under it: a slow sink lost rows when NATS restarted (the fault suite's JetStream test, and a
 * four-line reproduction with three consumers). With limits retention and this purge, a
 * message is gone only once every consumer, whatever its state, has passed it.
 *
 * Every durable consumer counts, not only the sinks': one an operator adds (an archive, an
 * audit) holds the stream as it did under interest retention.
 */
export async function trimAcknowledged(jsm: JetStreamManager, stream: string): Promise<number> {
  let floor = Number.POSITIVE_INFINITY;
  for await (const consumer of jsm.consumers.list(stream)) floor = Math.min(floor, consumer.ack_floor.stream_seq);
  if (!Number.isFinite(floor)) return 0;
  const { state } = await jsm.streams.info(stream);
  // Everything below floor + 1 is acknowledged by every consumer.
  if (floor < state.first_seq) return 0;
  const { purged } = await jsm.streams.purge(stream, { seq: floor + 1 });
  return purged;
}
