import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openOutbox, readOutboxStats } from '@ninjait/agent';
import { enrollAgent, spawnAgent, stopProcess } from '../lib/agent-process.ts';
import { sumOf } from '../lib/metrics.ts';
import { progress, waitFor } from '../lib/progress.ts';
import { createFleetToken, withServer, type ServerUnderTest } from '../lib/server-process.ts';
import { round } from '../lib/stats.ts';
import { fmt, type Row } from '../lib/table.ts';
import { machineShape, makeSample } from '../fleet/sample.ts';
import { measureDrain } from './drain.ts';
import { setting, type BenchContext, type Benchmark } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';

const SAMPLES = 'ninjait_records_ingested_total{kind="sample"}';

/** Fills an enrolled agent's outbox as if it had been offline, one sample per interval. */
function fillOutbox(dataDir: string, samples: number, intervalMs: number): void {
  const outbox = openOutbox({ file: join(dataDir, 'outbox.db'), bufferMaxMb: 256 });
  const shape = machineShape(1);
  const start = Date.now() - samples * intervalMs;
  try {
    for (let i = 0; i < samples; i++) {
      outbox.append({ kind: 'sample', collectedAt: start + i * intervalMs, sample: makeSample(shape, i + 1, 86_400 + i * 30) });
    }
  } finally {
    outbox.close();
  }
}

/** Starts `ninjait-agent run` and times until the server has logged `target` more samples. */
async function timeDelivery(server: ServerUnderTest, dataDir: string, logFile: string, target: number) {
  const before = (await server.metrics()).get(SAMPLES) ?? 0;
  const started = performance.now();
  const agent = spawnAgent(['run', '--data-dir', dataDir], logFile);
  try {
    await waitFor(`${target} samples from the agent`, async () => {
      if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}; see ${logFile}`);
      return ((await server.metrics()).get(SAMPLES) ?? 0) - before >= target;
    }, 3 * 60_000, 50);
    const seconds = (performance.now() - started) / 1000;
    // Logged is not yet acked: wait until the agent has deleted what it sent (the sample it
    // took at start may still wait), so stopping it does not cut an ack on a busy machine.
    await waitFor('the agent to receive its last ack', () => (readOutboxStats(join(dataDir, 'outbox.db'))?.bufferedRecords ?? 0) <= 1, 60_000, 50);
    return seconds;
  } finally {
    await stopProcess(agent);
  }
}

export async function measureBacklog(server: ServerUnderTest, ctx: BenchContext) {
  const samples = setting(ctx, 'backlogSamples', 20_160, 500);
  const dir = await scratchDir('ninjait-bench-backlog-');
  try {
    const { token } = await createFleetToken(server, 2);
    const fresh = join(dir, 'fresh');
    const back = join(dir, 'back');
    // One machine: the second enrollment takes the device over (new secret), so the baseline runs first.
    await enrollAgent(server.url, token, fresh, join(dir, 'agent.log'));
    progress(`backlog: baseline, an agent with an empty outbox until its first sample is logged`);
    const firstSampleSec = await timeDelivery(server, fresh, join(dir, 'agent.log'), 1);
    await enrollAgent(server.url, token, back, join(dir, 'agent.log'));
    progress(`backlog: ${samples} samples in the outbox (7 days at 30 s)`);
    const t0 = performance.now();
    fillOutbox(back, samples, 30_000);
    const fillSec = (performance.now() - t0) / 1000;
    const before = readOutboxStats(join(back, 'outbox.db'));
    const deliveredSec = await timeDelivery(server, back, join(dir, 'agent.log'), samples);
    const after = readOutboxStats(join(back, 'outbox.db'));
    return {
      samples, fillOutboxSec: round(fillSec, 2), outboxBefore: before, outboxAfter: after,
      baselineFirstSampleSec: round(firstSampleSec, 2), deliveredSec: round(deliveredSec, 2),
      deliveredPerSec: round(samples / deliveredSec, 0),
      serverSamplesLogged: sumOf(await server.metrics(), 'ninjait_records_ingested_total'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const backlogBenchmark: Benchmark = {
  name: 'backlog',
  summary: 'an agent back after 7 days offline (20,160 samples) delivers them; ingest-log drain rate to the sinks',
  async run(ctx) {
    const backlog = await withServer(ctx, { stores: ctx.stores }, (server) => measureBacklog(server, ctx));
    const drain = ctx.skipFreshServers ? null : await measureDrain(ctx).then(({ window: _window, ...figures }) => figures);
    const rows: Row[] = [{
      benchmark: 'backlog', figure: `${backlog.samples} backlog samples delivered`, value: fmt(backlog.deliveredSec, 's', 2),
      baseline: `empty outbox, first sample: ${fmt(backlog.baselineFirstSampleSec, 's', 2)}`, goal: '≤ 10 s',
    }];
    if (drain) {
      rows.push({
        benchmark: 'backlog', figure: `${drain.rows.toLocaleString('en-US')}-row ingest log drained (${drain.sinks.join(', ')})`,
        value: fmt(drain.drainedRowsPerSec, 'rows/s', 0), baseline: `read-only scan ${fmt(drain.baselineScanRowsPerSec, 'rows/s', 0)}`, goal: '≥ 100,000 rows/s to ClickHouse',
      });
    }
    return { config: { samples: backlog.samples, drainRows: drain?.rows ?? null }, figures: { backlog, drain }, rows };
  },
};
