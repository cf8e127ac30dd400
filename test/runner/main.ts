import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCleanup } from './cleanup.ts';
import { cpuReport } from './cpu-report.ts';
import { canInstall, installMissing, wantedPackages } from './debian.ts';
import { startPeers } from './peers.ts';
import { installersUnavailable, MAX_FILES_TRIED_AGAIN, PHASES, type PhaseName, type PhaseResult } from './phases.ts';
import { killGroup, killLeftovers, runningChildren, say, step } from './processes.ts';
import { plan, runGroup } from './schedule.ts';
import { prepareServices } from './services.ts';
import { migratedTemplate } from './template-database.ts';

const usage = `Usage: npm test [-- [options] [test files or filters]]
       node --import tsx test/runner/main.ts [options] [test files or filters]

Runs every check CI runs, on this machine, and leaves it as it found it:

  1. services  PostgreSQL (127.0.0.1:5432, database test), Redis (127.0.0.1:6379) and NATS
               (127.0.0.1:4222): used when they answer, started when installed but down (and
               stopped at the end). They set DATABASE_URL, REDIS_URL and NATS_TEST_URL; without
               them the tests run on the embedded engines and say which variants they skip.
  2. packages  as root with apt-get: installs from Debian what the suites use and this machine
               lacks (victoria-metrics, clickhouse-server, chromium, curl, pgbouncer; rpm,
               docker-compose and libxml2-utils for the installers test; wixl and msitools for
               the MSI). Otherwise it lists them.
  3. peers     starts Debian's ClickHouse and VictoriaMetrics on free ports in a temporary folder
               (.ci/start-*.sh): CLICKHOUSE_TEST_URL and INFLUX_TEST_URL for their adapter tests.
  4. phases    typecheck, lint (eslint, and every .github/workflows file through action-validator),
               main (vitest, every test but the fault suite), faults (the fault suite, one file at
               a time), installers (.ci/installers-test.sh, root only), msi (the Windows MSI built
               with wixl and inspected with msiinfo). Main runs on the terminal; beside it,
               one after another, the fault suite, installers, msi, typecheck and lint (their
               output is printed when main and they have ended).

A test whose peer is missing skips with a printed reason. Up to ${MAX_FILES_TRIED_AGAIN} test files that
fail get one second try on their own; the summary lists what passed only then. Every phase runs
even if an earlier one failed; the exit code is 0 only if none failed (130 after Ctrl-C). On exit, failure or
Ctrl-C, it stops what it started and removes its temporary folder.

Options:
  --only PHASES    run only these phases (comma-separated: ${PHASES.join(', ')})
  --skip PHASES    run every phase but these
  --no-install     never install Debian packages
  --record-durations
                   write each main-suite file's seconds to test/runner/durations.json, which
                   orders a fresh clone's run longest file first (commit the file), and print
                   the files that cost the most CPU (own and their children's)
  -h, --help       this text

Filters (file paths or parts of them) are passed to vitest, e.g.
  npm test -- --only main server/src/features/auth test/security/session-restart.test.ts

Variables you export are used as they are: DATABASE_URL, REDIS_URL, NATS_TEST_URL,
CLICKHOUSE_TEST_URL, INFLUX_TEST_URL, MONGODB_URL; PASSWORD_HASH_COST (10 unless exported:
cheap password hashes for the servers the tests start).`;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Read by scripts/test-sequencer.ts (vitest's order on a fresh clone). */
const DURATIONS_FILE = join(ROOT, 'test/runner/durations.json');

/**
 * scrypt at N = 2^10 for the servers the tests start (about 5 ms a password instead of 50-160):
 * the suites create and sign in people by the thousand, and at N = 2^15 their hashing was most of
 * the CPU of the files that do (npm test is CPU-bound on two cores). Tests that are about the
 * hash's cost (login-flood.test.ts, constant-time.test.ts) set their own. Exported beforehand, it wins.
 */
const TEST_PASSWORD_HASH_COST = '10';

function selectPhases(only: string | undefined, skip: string | undefined): PhaseName[] {
  const parse = (list: string) => list.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = [...parse(only ?? ''), ...parse(skip ?? '')].filter((name) => !(PHASES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown phase ${unknown.join(', ')} (phases: ${PHASES.join(', ')})`);
  const chosen = only ? PHASES.filter((name) => parse(only).includes(name)) : [...PHASES];
  return chosen.filter((name) => !parse(skip ?? '').includes(name));
}

/** Merges a run's file durations into the committed ones; files that no longer exist drop out. */
function recordDurations(measured: Record<string, number>): string {
  let kept: Record<string, number> = {};
  try {
    kept = JSON.parse(readFileSync(DURATIONS_FILE, 'utf8')) as Record<string, number>;
  } catch { /* first recording */ }
  const merged = Object.entries({ ...kept, ...measured })
    .filter(([file]) => existsSync(join(ROOT, file)))
    .sort(([a], [b]) => a.localeCompare(b));
  writeFileSync(DURATIONS_FILE, `${JSON.stringify(Object.fromEntries(merged), null, 1)}\n`);
  return `recorded ${Object.keys(measured).length} files' durations in test/runner/durations.json`;
}

function summarise(results: PhaseResult[], interrupted: string | null): number {
  step('Summary');
  for (const result of results) {
    const tests = result.tests ? ` (${result.tests.passed} passed, ${result.tests.failed} failed, ${result.tests.skipped} skipped)` : '';
    const busy = result.cpuBusyPercent === undefined || result.status === 'skipped' ? '' : `, CPU ${result.cpuBusyPercent} % busy`;
    say(`${result.name.padEnd(11)}${result.status.padEnd(8)}${String(result.seconds).padStart(5)} s${tests}${busy}${result.reason ? `: ${result.reason}` : ''}`);
  }
  const counted = results.filter((result) => result.tests);
  if (counted.length > 0) {
    const total = (key: 'passed' | 'failed' | 'skipped') => counted.reduce((sum, result) => sum + result.tests![key], 0);
    say(`tests: ${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped`);
  }
  for (const result of counted) {
    const sum = result.tests!.fileSeconds ? ` (${result.tests!.fileSeconds} s of files in all, over ${result.seconds} s)` : '';
    if (result.tests!.slowest?.length) say(`\nslowest files of ${result.name}${sum}:\n${result.tests!.slowest.join('\n')}`);
  }
  const secondTries = counted.flatMap((result) => result.tests!.passedOnSecondTry ?? []);
  if (secondTries.length > 0) {
    say(`\npassed only on a second try, without the rest of the suite (they fail under load: fix them):\n${secondTries.map((failure) => `  ${failure}`).join('\n')}`);
  }
  const failures = counted.flatMap((result) => result.tests!.failures ?? []);
  if (failures.length > 0) say(`\nfailed:\n${failures.map((failure) => `  ${failure}`).join('\n')}`);
  if (interrupted) return 130;
  return results.some((result) => result.status === 'failed') ? 1 : 0;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      only: { type: 'string' }, skip: { type: 'string' }, 'no-install': { type: 'boolean' }, 'record-durations': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    say(usage);
    return 0;
  }
  const phases = selectPhases(values.only, values.skip);
  const cleanup = createCleanup();
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    const children = runningChildren();
    if (interrupted) {
      say(`${signal} again: killing the current step`);
      for (const child of children) killGroup(child, 'SIGKILL');
      return;
    }
    interrupted = signal;
    say(`\n${signal}: stopping the current step, then cleaning up (${signal} again to force)`);
    for (const child of children) killGroup(child, signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  const tmp = mkdtempSync(join(tmpdir(), 'ninjait-test-run-'));
  /** Each main-suite file's CPU seconds (--record-durations), read back before the run's folder is removed. */
  const cpuFile = join(tmp, 'cpu.jsonl');
  cleanup.add(`remove ${tmp}`, async () => rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }));
  // The tests' TMPDIR: every folder they make is inside the run's, so even a test killed before
  // its cleanup (Ctrl-C) leaves nothing behind. Traversable like /tmp: a fault test's private
  // PostgreSQL runs as the postgres user in a folder in there.
  chmodSync(tmp, 0o755);
  const testTmp = join(tmp, 'tmp');
  mkdirSync(testTmp);
  chmodSync(testTmp, 0o1777);
  const sweepTestProcesses = () => killLeftovers((_pid, _group, args) => args.includes(`${testTmp}/`), 'a test started (it runs from the tests\' TMPDIR)');
  cleanup.add('stop what the tests left running', async () => void (await sweepTestProcesses()));
  const results: PhaseResult[] = [];
  try {
    step(`Node ${process.version}; phases: ${phases.join(', ')}`);
    step('Services');
    const services = await prepareServices(cleanup, tmp);
    for (const line of services.lines) say(line);

    step('Debian packages');
    const wanted = wantedPackages({ installers: phases.includes('installers') && installersUnavailable() === null, msi: phases.includes('msi') });
    const missing = values['no-install'] || !canInstall() ? wanted.filter((want) => !want.present()) : await installMissing(wanted);
    if (missing.length === 0) say('everything the suites use is installed');
    const why = values['no-install'] ? '--no-install' : canInstall() ? 'installing failed' : 'not root, or no apt-get';
    for (const want of missing) say(`missing ${want.packages.join(' ')} (${why}), needed by ${want.neededBy}`);

    const template = await migratedTemplate(services.env.DATABASE_URL ?? process.env.DATABASE_URL, cleanup);
    if (template.line) say(template.line);

    step('Test peers');
    const peers = interrupted ? { env: {} } : await startPeers(ROOT, cleanup, tmp);
    const context = {
      root: ROOT, tmp, filters: positionals,
      env: { PASSWORD_HASH_COST: TEST_PASSWORD_HASH_COST, ...process.env, ...services.env, ...peers.env, ...template.env, TMPDIR: testTmp, ...(values['record-durations'] ? { NINJAIT_TEST_CPU_FILE: cpuFile } : {}) },
    };
    for (const group of plan(phases)) {
      if (interrupted) break;
      results.push(...await runGroup(group, context, () => interrupted !== null));
      await sweepTestProcesses();
    }
    const mainDurations = results.find((result) => result.name === 'main')?.tests?.fileDurations;
    // Printed here: the file is in the run's folder, which the clean-up removes.
    if (values['record-durations'] && mainDurations) say(cpuReport(cpuFile, mainDurations));
  } catch (error) {
    say(`npm test: ${(error as Error).stack ?? String(error)}`);
    results.push({ name: 'main', status: 'failed', reason: `the runner failed: ${(error as Error).message}`, seconds: 0 });
  } finally {
    step('Cleaning up');
    await cleanup.run();
  }
  const main = results.find((result) => result.name === 'main');
  if (values['record-durations'] && main?.tests?.fileDurations) say(recordDurations(main.tests.fileDurations));
  return summarise(results, interrupted);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`npm test: ${(error as Error).message}`);
    process.exit(2);
  },
);
