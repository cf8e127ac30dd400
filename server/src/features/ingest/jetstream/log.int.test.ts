import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeSampleRecord } from '../../../../test-support/harness.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../../stores/relational/index.ts';
import { createMetrics } from '../../../platform/obs/metrics.ts';
import { createLogger } from '../../../platform/obs/logger.ts';
import { openJetStreamIngest, type JetStreamIngest } from './index.ts';
import { decodeMessage, encodePush, messageId } from './record.ts';
import { recordSubject } from './stream.ts';

const natsUrl = process.env.NATS_TEST_URL;
if (!natsUrl) console.warn('NATS_TEST_URL is not set: the JetStream log tests are skipped');

/**
 * A push is one message whose id is its device and first record. An agent that was not acked
 * (the server died after JetStream took the push, before PostgreSQL moved the device's
 * sequence) sends the push again with what it collected since: the stream must then hold every
 * record once.
 */
describe.skipIf(!natsUrl)('JetStream ingest log: pushes sent again', () => {
  const stream = `LOGTEST_${randomBytes(4).toString('hex')}`;
  let dir: string;
  let db: RelationalStore;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let ingest: JetStreamIngest;
  let device: { deviceId: string; organizationId: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-jetstream-log-'));
    db = await openRelationalStore({ dataDir: join(dir, 'pglite') });
    await migrate(db);
    const { rows: [org] } = await db.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id', ['jetstream-log']);
    const { rows: [row] } = await db.query<{ id: string }>(`INSERT INTO devices (name, organization_id, status) VALUES ('d', $1, 'online') RETURNING id`, [org!.id]);
    await db.query('INSERT INTO device_ingest_state (device_id) VALUES ($1)', [row!.id]);
    device = { deviceId: row!.id, organizationId: org!.id };
    // A sink's consumer that no drainer reads: the stream keeps every message for the checks.
    ingest = await openJetStreamIngest({
      url: natsUrl!, stream, replicas: 1, duplicateWindowSec: 60, maxDeliveries: 2, groupCommitMs: 2, batchRows: 100, clientName: 'jetstream log test',
    }, { db, metrics: createMetrics(), log: createLogger('silent'), sinkNames: ['kept'] });
    nc = await connect({ servers: natsUrl });
    jsm = await jetstreamManager(nc);
  }, 120_000);
  afterAll(async () => {
    await jsm?.streams.delete(stream).catch(() => false);
    await nc?.close();
    await ingest?.close();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** What an earlier server published and never recorded in PostgreSQL. */
  async function publishedBefore(seqs: readonly number[]) {
    const encoded = encodePush(device, seqs.map((seq) => fakeSampleRecord(seq)), null, Date.now());
    return jetstream(nc).publish(recordSubject(stream, device.deviceId), encoded.data, { msgID: messageId(device.deviceId, seqs[0]!) });
  }

  async function loggedSeqs(): Promise<number[]> {
    const { state } = await jsm.streams.info(stream);
    const seqs: number[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const stored = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (stored) seqs.push(...decodeMessage(seq, stored.string()).map((row) => row.seq));
    }
    return seqs.sort((a, b) => a - b);
  }

  it('logs only what a re-sent push has beyond its original', async () => {
    await publishedBefore([1, 2, 3, 4, 5]);
    await publishedBefore([6, 7]);
    const ack = await ingest.log.append(device, [1, 2, 3, 4, 5, 6, 7, 8, 9].map((seq) => fakeSampleRecord(seq)), null);
    expect(ack).toBe(9);
    expect(await loggedSeqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The same push once more, after PostgreSQL moved on: nothing new.
    expect(await ingest.log.append(device, [8, 9].map((seq) => fakeSampleRecord(seq)), null)).toBe(9);
    expect(await loggedSeqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }, 60_000);

  it('loses nothing when the original already left the stream', async () => {
    const original = await publishedBefore([10, 11]);
    await jsm.streams.deleteMessage(stream, original.seq);
    expect(await ingest.log.append(device, [10, 11, 12].map((seq) => fakeSampleRecord(seq)), null)).toBe(12);
    expect((await loggedSeqs()).filter((seq) => seq >= 10)).toEqual([10, 11, 12]);
  }, 60_000);
});
