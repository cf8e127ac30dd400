import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, RetentionPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerName, ensureIngestStream, recordSubject } from './stream.ts';
import { trimAcknowledged } from './trimmer.ts';

const natsUrl = process.env.NATS_TEST_URL;
if (!natsUrl) console.warn('NATS_TEST_URL is not set: the JetStream trimmer tests are skipped');

/**
 * The stream keeps a message until every durable consumer acknowledged it, whatever state the
 * consumer is in: one never handed a message yet holds it as much as one that acked half.
 */
describe.skipIf(!natsUrl)('JetStream log trimming', () => {
  const stream = `TRIMTEST_${randomBytes(4).toString('hex')}`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl });
    jsm = await jetstreamManager(nc);
    expect(await ensureIngestStream(jsm, { stream, replicas: 1, duplicateWindowSec: 60 }, ['fast', 'slow'], 1_000)).toBeNull();
  });
  afterAll(async () => {
    await jsm?.streams.delete(stream).catch(() => false);
    await nc?.close();
  });

  const publish = async (n: number) => {
    for (let i = 0; i < n; i++) await jetstream(nc).publish(recordSubject(stream, `d${i % 3}`), `m${i}`);
  };
  /** Fetches up to `n` messages of the consumer and acks the first `ack` of them. */
  const take = async (consumer: string, n: number, ack: number) => {
    const batch = await (await jetstream(nc).consumers.get(stream, consumer)).fetch({ max_messages: n, expires: 1_000 });
    let i = 0;
    for await (const msg of batch) if (i++ < ack) await msg.ackAck();
  };
  const state = async () => (await jsm.streams.info(stream)).state;

  it('is made with limits retention: nothing goes until the trimmer says so', async () => {
    expect((await jsm.streams.info(stream)).config.retention).toBe(RetentionPolicy.Limits);
    await publish(10);
    await take(consumerName('fast'), 10, 10);
    await take(consumerName('slow'), 10, 10);
    // Every consumer acked all ten; under interest retention they would be gone already.
    expect((await state()).messages).toBe(10);
    expect(await trimAcknowledged(jsm, stream)).toBe(10);
    expect(await state()).toMatchObject({ messages: 0, first_seq: 11 });
  });

  it('keeps what the slowest consumer has not acked, and what one never handed anything holds', async () => {
    await publish(10);
    await take(consumerName('fast'), 10, 10);
    await take(consumerName('slow'), 4, 4);
    expect(await trimAcknowledged(jsm, stream)).toBe(4);
    expect(await state()).toMatchObject({ messages: 6, first_seq: 15 });

    await jsm.consumers.add(stream, { durable_name: 'archive', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    await take(consumerName('slow'), 10, 10);
    expect(await trimAcknowledged(jsm, stream)).toBe(0);
    expect((await state()).messages).toBe(6);
    await jsm.consumers.delete(stream, 'archive');
    expect(await trimAcknowledged(jsm, stream)).toBe(6);
    expect((await state()).messages).toBe(0);
    // Nothing left to purge: a second pass is a no-op.
    expect(await trimAcknowledged(jsm, stream)).toBe(0);
  });
});
