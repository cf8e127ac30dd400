import { AckPolicy, DeliverPolicy, jetstreamManager, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { waitFor } from '../../support/processes.ts';

/** An audit consumer that never acks: with interest retention it keeps every record the stream took, duplicates included. */
export async function addAuditConsumer(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await (await jetstreamManager(nc)).consumers.add(stream, {
      durable_name: 'fault-audit', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: -1,
    });
  } finally {
    await nc.close();
  }
}

/** Waits until every sink's durable consumer has acked everything in the stream. */
export async function waitForJetStreamDrainers(url: string, stream: string, sinks: readonly string[], timeoutMs = 90_000): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    await waitFor(`JetStream consumers ${sinks.join(', ')} to catch up`, async () => {
      for (const sink of sinks) {
        const info = await jsm.consumers.info(stream, `sink-${sink}`);
        if (info.num_pending + info.num_ack_pending > 0) return false;
      }
      return true;
    }, timeoutMs, 250);
  } finally {
    await nc.close();
  }
}

/** Every record in the stream, by device, in sequence order (duplicates included), read through the audit consumer. */
export async function readStream(url: string, stream: string): Promise<Map<string, { seq: number; kind: string; at: Date }[]>> {
  const nc = await connect({ servers: url });
  const byDevice = new Map<string, { seq: number; kind: string; at: Date }[]>();
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(stream);
    const consumer = await jetstream(nc).consumers.get(stream, 'fault-audit');
    let read = 0;
    while (read < state.messages) {
      const batch = await consumer.fetch({ max_messages: 1_000, expires: 2_000 });
      let got = 0;
      for await (const msg of batch) {
        // A push per message (`x` its records), or one record per message as servers wrote before.
        const message = msg.json<{ d: string; s: number; k: string; t: number; x?: { s: number; k: string; t: number }[] }>();
        const rows = byDevice.get(message.d) ?? [];
        for (const record of message.x ?? [message]) rows.push({ seq: record.s, kind: record.k, at: new Date(record.t) });
        byDevice.set(message.d, rows);
        got++;
      }
      if (got === 0) break;
      read += got;
    }
  } finally {
    await nc.close();
  }
  for (const rows of byDevice.values()) rows.sort((a, b) => a.seq - b.seq);
  return byDevice;
}
