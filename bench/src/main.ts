import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchmarks } from './benchmarks/index.ts';
import type { BenchContext } from './benchmarks/types.ts';
import { machineInfo, versions } from './lib/machine.ts';
import { progress } from './lib/progress.ts';
import { describeStores, storesFromEnv } from './lib/stores.ts';
import { removeScratch } from './lib/scratch.ts';
import { killServers } from './lib/server-process.ts';
import { cpuSplit } from './lib/cpu-split.ts';
import { formatTable, type Row } from './lib/table.ts';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

const usage = `Usage: npm run bench -- [options]

Runs NinjaIT's benchmarks against a real server process and a simulated fleet, prints a
table and writes bench/results/<name>.json (machine, versions, config, figures).
Embedded stores (PGlite, in-process cache) unless DATABASE_URL / REDIS_URL are set.

Options:
  --only <names>      comma-separated benchmarks to run (default: all)
  --quick             tiny sizes: proves every benchmark works end to end, in minutes instead of hours
  --profile           run the server with --cpu-prof; profiles and a summary go to bench/results/profiles/
  --set <key=value>   override a size, e.g. --set agents=2000,5000 --set intervalMs=30000 (repeatable)
  --out <dir>         where results go (default: bench/results)
  --help              this text

Environment:
  BENCH_SERVER_NODE_ARGS   node flags for the servers under test, e.g. '--trace-gc' (their logs are then kept)
  BENCH_SERVER_CPUS        CPUs for the servers under test, e.g. '0'; the fleet, agents and clients get the rest

Benchmarks:
${benchmarks.map((b) => `  ${b.name.padEnd(12)}${b.summary}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' }, quick: { type: 'boolean' }, profile: { type: 'boolean' },
      set: { type: 'string', multiple: true }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const only = values.only?.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = only?.filter((name) => !benchmarks.some((b) => b.name === name)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`Unknown benchmark(s): ${unknown.join(', ')}\n\n${usage}`);
    return 2;
  }
  const overrides = Object.fromEntries((values.set ?? []).map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--set wants key=value, got "${pair}"`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
  const outDir = values.out ?? RESULTS_DIR;
  const profileDir = values.profile ? join(outDir, 'profiles') : null;
  await mkdir(outDir, { recursive: true });
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const stores = storesFromEnv();
  const ctx: BenchContext = { quick: values.quick ?? false, stores, profileDir, overrides, runId: randomBytes(3).toString('hex') };
  const split = cpuSplit();
  const machine = { ...machineInfo(), ...(split ? { cpuSplit: split } : {}) };
  const installed = versions();
  progress(`stores: ${describeStores(stores)}; ${machine.cpus} CPUs, ${machine.memoryMb} MB, node ${machine.node}${ctx.quick ? '; quick sizes' : ''}`
    + `${split ? `; servers on CPU ${split.server}, the rest on ${split.others}` : ''}`);

  const rows: Row[] = [];
  let failed = 0;
  for (const bench of benchmarks.filter((b) => !only || only.includes(b.name))) {
    progress(`── ${bench.name}: ${bench.summary}`);
    const startedAt = new Date();
    const t0 = performance.now();
    try {
      const result = await bench.run(ctx);
      const record = {
        benchmark: bench.name, summary: bench.summary, startedAt: startedAt.toISOString(),
        durationSec: Math.round((performance.now() - t0) / 100) / 10, quick: ctx.quick,
        stores: describeStores(stores), machine, versions: installed,
        config: result.config, figures: result.figures, table: result.rows, pending: result.pending ?? null,
      };
      const file = join(outDir, `${bench.name}${ctx.quick ? '.quick' : ''}.json`);
      await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
      rows.push(...(result.pending ? [{ benchmark: bench.name, figure: 'pending', value: result.pending, baseline: '-', goal: '-' }] : result.rows));
      progress(`   ${bench.name} done in ${record.durationSec} s → ${file}`);
    } catch (error) {
      failed++;
      progress(`   ${bench.name} FAILED: ${(error as Error).stack ?? String(error)}`);
      rows.push({ benchmark: bench.name, figure: 'failed', value: (error as Error).message.slice(0, 80), baseline: '-', goal: '-' });
    }
  }
  process.stdout.write(`\n${formatTable(rows)}\n`);
  return failed > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // Fleet workers leave on their own when this process goes (IPC disconnect); servers do not.
    killServers();
    progress(`${signal}: removing this run's temporary folders and scratch databases`);
    // A second signal while that runs exits at once.
    process.once(signal, () => process.exit(130));
    void removeScratch().then((removed) => {
      progress(`removed ${removed.dirs} folder(s) and ${removed.databases} database(s)`);
      process.exit(130);
    });
  });
}
process.exitCode = await main(process.argv.slice(2));

/**
 * Everything is measured and written. Whatever still holds the event loop now (a child's pipe,
 * a socket, a timer some benchmark left) would keep `npm run bench` running for ever after its
 * table: name it, so it gets fixed where it was opened, and exit anyway.
 */
const LINGER_MS = 5_000;
setTimeout(() => {
  const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles()
    .filter((handle) => handle !== process.stdout && handle !== process.stderr && handle !== process.stdin);
  if (handles.length > 0) {
    const names = handles.map((handle) => handle.constructor.name);
    process.stderr.write(`bench: finished, but ${handles.length} handle(s) were still open (${names.join(', ')}); exiting anyway\n`);
  }
  killServers();
  process.exit();
}, LINGER_MS).unref();
