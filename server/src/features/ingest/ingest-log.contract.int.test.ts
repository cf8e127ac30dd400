import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { fakeSampleRecord } from '../../../test-support/harness.ts';
import { migrate, openRelationalStore } from '../../stores/relational/index.ts';
import { createMetrics } from '../../platform/obs/metrics.ts';
import { createLogger } from '../../platform/obs/logger.ts';
import { createDrainer } from './drainer.ts';
import { createIngestLog } from './ingest-log.ts';
import { createIngestLogReader } from './log-reader.ts';
import { openJetStreamIngest } from './jetstream/index.ts';
import { describeIngestLogContract, type LogEngineUnderTest } from './ingest-log.suite.ts';

/** A migrated scratch database (PostgreSQL when configured, else PGlite) and how to remove it. */
async function scratchRelational(engine: 'pglite' | 'postgres') {
  const dir = await mkdtemp(join(tmpdir(), 'ninjait-log-contract-'));
  const database = engine === 'postgres' ? await createScratchDatabase() : null;
  const db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
  await migrate(db);
  return {
    db,
    async remove() {
      await db.close();
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const quiet = createLogger(process.env.CONTRACT_LOG_LEVEL === 'debug' ? 'debug' : 'silent');

for (const engine of relationalEngines()) {
  describeIngestLogContract(`PostgreSQL log on ${engine}`, async (): Promise<LogEngineUnderTest> => {
    const { db, remove } = await scratchRelational(engine);
    return {
      db,
      async instance(sinks) {
        const metrics = createMetrics();
        const log = createIngestLog(db, { groupCommitMs: 2, metrics });
        const reader = createIngestLogReader(db, { capacityRows: 1_000 });
        const instanceId = `contract-${randomBytes(3).toString('hex')}`;
        const drainers = sinks.map((sink) => createDrainer({
          db, reader, sink, instanceId, batchRows: 100, pollMs: 10, maxBackoffMs: 200, metrics, log: quiet,
          isolation: { refusedRowPauseMs: 10 },
        }));
        log.onAppended(() => drainers.forEach((drainer) => drainer.wake()));
        return {
          log, drainers,
          async close() {
            await log.flush();
            await Promise.all(drainers.map((drainer) => drainer.stop()));
          },
        };
      },
      teardown: remove,
    };
  }, fakeSampleRecord);
}

const natsUrl = process.env.NATS_TEST_URL;
if (!natsUrl) console.warn('NATS_TEST_URL is not set: the JetStream variant of the ingest-log contract is skipped');
else {
  describeIngestLogContract('JetStream log', async (): Promise<LogEngineUnderTest> => {
    const { db, remove } = await scratchRelational(process.env.DATABASE_URL ? 'postgres' : 'pglite');
    // The machine's JetStream is shared: a stream of our own, deleted at the end.
    const stream = `CONTRACT_${randomBytes(4).toString('hex')}`;
    return {
      db,
      async instance(sinks) {
        const ingest = await openJetStreamIngest({
          url: natsUrl, stream, replicas: 1, duplicateWindowSec: 60, maxDeliveries: 2, groupCommitMs: 2, batchRows: 100,
          clientName: 'ingest-log contract',
        }, { db, metrics: createMetrics(), log: quiet, sinkNames: sinks.map((sink) => sink.name) });
        const drainers = sinks.map((sink) => ingest.drainer(sink));
        return {
          log: ingest.log, drainers,
          async close() {
            await ingest.log.flush();
            await Promise.all(drainers.map((drainer) => drainer.stop()));
            await ingest.close();
          },
        };
      },
      async teardown() {
        const nc = await connect({ servers: natsUrl });
        await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
        await nc.close();
        await remove();
      },
    };
  }, fakeSampleRecord);
}
