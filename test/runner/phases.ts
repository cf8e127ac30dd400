import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../support/executables.ts';
import { runForeground, step } from './processes.ts';
import { ACTION_VALIDATOR, workflowFiles } from './workflows.ts';

/** The parts of `npm test`, in the order they run. */
export const PHASES = ['typecheck', 'lint', 'main', 'faults', 'installers', 'msi'] as const;
export type PhaseName = (typeof PHASES)[number];

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** `file > test` of each failed test, so a log's tail says what failed without its scrollback. */
  failures?: string[];
  /** The files that failed, by path from the repository's root: what a second try runs. */
  failedFiles?: string[];
  /**
   * Failures of the first run whose files then passed on a second try without the rest of the
   * suite beside them: tests that fail under load, listed so they are fixed, not forgotten.
   */
  passedOnSecondTry?: string[];
  /** The slowest files, `seconds file`: where the phase's time went. */
  slowest?: string[];
  /** Every file's time added up: over the phase's wall time, how many files ran at once on average. */
  fileSeconds?: number;
  /** Each file's seconds, by path from the repository's root (what `--record-durations` keeps). */
  fileDurations?: Record<string, number>;
}

const SLOWEST_SHOWN = 12;
/** Lines of a failed test's message printed in the summary. */
const FAILURE_LINES_SHOWN = 12;

interface VitestFileResult { name?: unknown; startTime?: unknown; endTime?: unknown; status?: unknown; message?: unknown; assertionResults?: unknown }
interface VitestAssertion { fullName?: unknown; status?: unknown; failureMessages?: unknown }

export interface PhaseResult {
  name: PhaseName;
  status: 'passed' | 'failed' | 'skipped';
  /** Why it was skipped, or how it failed. */
  reason?: string;
  seconds: number;
  /** How busy the machine's cores were during the phase (all of them, whatever ran): room for more workers, or none. */
  cpuBusyPercent?: number;
  tests?: TestCounts;
}

export interface PhaseContext {
  root: string;
  tmp: string;
  env: NodeJS.ProcessEnv;
  /** Test files (or name filters) for the vitest phases; empty runs them all. */
  filters: readonly string[];
  /** Where the phase's output goes when it runs beside another phase; the terminal otherwise. */
  logFile?: string;
}

/** What vitest's JSON reporter wrote, reduced to counts (null if it wrote nothing readable). */
export function readVitestCounts(file: string): TestCounts | null {
  if (!existsSync(file)) return null;
  try {
    const report = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const count = (key: string) => (typeof report[key] === 'number' ? report[key] : 0);
    const files = (Array.isArray(report.testResults) ? report.testResults : []) as VitestFileResult[];
    const relative = (name: unknown) => (typeof name === 'string' ? name.replace(`${process.cwd()}/`, '') : '?');
    const failures = files.flatMap((file) => {
      const assertions = (Array.isArray(file.assertionResults) ? file.assertionResults : []) as VitestAssertion[];
      const failed = assertions.filter((test) => test.status === 'failed')
        .map((test) => `${relative(file.name)} > ${String(test.fullName)}${firstLinesOf(test.failureMessages)}`);
      // A file that failed before any test ran (a hook, an import) has no failed assertion to name.
      return failed.length > 0 || file.status !== 'failed' ? failed : [`${relative(file.name)}: ${String(file.message ?? 'failed')}`.slice(0, 300)];
    });
    const timed = files
      .filter((file) => typeof file.startTime === 'number' && typeof file.endTime === 'number')
      .map((file) => ({ name: relative(file.name), seconds: ((file.endTime as number) - (file.startTime as number)) / 1000 }));
    const fileSeconds = Math.round(timed.reduce((sum, file) => sum + file.seconds, 0));
    const slowest = timed.map((file) => ({ ...file, seconds: Math.round(file.seconds) }))
      .sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST_SHOWN)
      .map((file) => `${String(file.seconds).padStart(5)} s  ${file.name}`);
    const fileDurations = Object.fromEntries(timed.map((file) => [file.name, Math.round(file.seconds * 10) / 10]));
    const failedFiles = files.filter((file) => file.status === 'failed').map((file) => relative(file.name));
    return {
      passed: count('numPassedTests'), failed: count('numFailedTests'), skipped: count('numPendingTests') + count('numTodoTests'),
      failures, failedFiles, slowest, fileSeconds, fileDurations,
    };
  } catch {
    return null;
  }
}

/**
 * The start of a failed test's first message, indented under its name: CI shows the summary whole
 * but may cut vitest's own output, and a failure with no message cannot be diagnosed afterwards.
 */
function firstLinesOf(messages: unknown): string {
  let first = Array.isArray(messages) && typeof messages[0] === 'string' ? messages[0] : '';
  // vitest reports a test that ran out of time by the stack it captured where the test was
  // defined, under a placeholder message; say what it means.
  first = first.replace(/^Error: STACK_TRACE_ERROR/, 'timed out (its timeout ran out; vitest keeps only where the test is defined)');
  const lines = first.split('\n').filter((line) => line.trim() !== '' && !/^\s*at .*(node_modules|node:internal|<anonymous>)/.test(line)).slice(0, FAILURE_LINES_SHOWN);
  return lines.map((line) => `\n      ${line.slice(0, 240)}`).join('');
}

/**
 * At most this many failed files get a second try: more than that is a broken change, not a
 * machine too loaded for a timing, and a second run of them would only make CI slower.
 */
export const MAX_FILES_TRIED_AGAIN = 3;

async function vitestRun(context: PhaseContext, report: string, args: string[], filters: readonly string[]): Promise<{ code: number; tests: TestCounts | null }> {
  const code = await runForeground(join(context.root, 'node_modules/.bin/vitest'),
    ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...filters], { env: context.env, cwd: context.root, logFile: context.logFile });
  return { code, tests: readVitestCounts(report) };
}

/**
 * Runs a vitest phase. Files that failed get one second try, on their own: on a loaded two-core
 * CI machine a test that waits on a browser, a child process or a timer can miss its deadline
 * beside the rest of the suite (CI failed that way on a different test each time). A file that
 * fails again fails the phase; one that passes is listed in the summary as passed on a second
 * try, with its first failure, so it gets fixed rather than hidden. A broken change fails the
 * same way twice, or in more files than get a second try.
 */
async function vitest(context: PhaseContext, name: PhaseName, args: string[]): Promise<Omit<PhaseResult, 'name' | 'seconds'>> {
  const first = await vitestRun(context, join(context.tmp, `${name}.vitest.json`), args, context.filters);
  const tests = first.tests ?? undefined;
  const failedFiles = tests?.failedFiles ?? [];
  if (first.code === 0 || !tests || failedFiles.length === 0 || failedFiles.length > MAX_FILES_TRIED_AGAIN) {
    return first.code === 0 ? { status: 'passed', ...(tests ? { tests } : {}) } : { status: 'failed', reason: `vitest exited ${first.code}`, ...(tests ? { tests } : {}) };
  }
  const announce = `\n==> ${failedFiles.length} file(s) failed; trying them once more without the rest of the suite: ${failedFiles.join(', ')}\n`;
  if (context.logFile) appendFileSync(context.logFile, announce);
  else process.stdout.write(announce);
  const second = await vitestRun(context, join(context.tmp, `${name}.second-try.vitest.json`), args, failedFiles);
  // An unreadable second report counts as the first run's failures all over again.
  const again = second.tests ?? { ...tests, failures: tests.failures ?? [], failedFiles };
  const stillFailing = again.failedFiles ?? failedFiles;
  const combined: TestCounts = {
    ...tests,
    passed: tests.passed + tests.failed - again.failed,
    failed: again.failed,
    failures: again.failures ?? [],
    failedFiles: stillFailing,
    passedOnSecondTry: (tests.failures ?? []).filter((failure) => !stillFailing.some((file) => failure.startsWith(file))),
  };
  return second.code === 0
    ? { status: 'passed', tests: combined }
    : { status: 'failed', reason: `vitest exited ${second.code} on the second try too`, tests: combined };
}

async function command(context: PhaseContext, program: string, args: string[]): Promise<Omit<PhaseResult, 'name' | 'seconds'>> {
  const code = await runForeground(program, args, { env: context.env, cwd: context.root, logFile: context.logFile });
  return code === 0 ? { status: 'passed' } : { status: 'failed', reason: `${program} ${args.join(' ')} exited ${code}` };
}

/** Why the installers test cannot run here, or null. */
export function installersUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'it needs root (dpkg -i, a system user): run npm test as root, as CI does';
  if (!findExecutable('dpkg')) return 'it needs dpkg (a Debian system)';
  return null;
}

/** Why the MSI cannot be built and inspected here (Debian's wixl and msitools), or null. */
export function msiUnavailable(): string | null {
  const missing = ['wixl', 'msiinfo', 'msiextract', 'python3'].filter((tool) => !findExecutable(tool));
  return missing.length > 0 ? `missing ${missing.join(', ')} (Debian packages wixl, msitools; installed when npm test runs as root)` : null;
}

const RUN: Record<PhaseName, (context: PhaseContext) => Promise<Omit<PhaseResult, 'name' | 'seconds'>>> = {
  typecheck: (context) => command(context, 'npm', ['run', 'typecheck']),
  lint: async (context) => {
    const eslint = await command(context, 'npm', ['run', 'lint']);
    // One file per call (the validator's CLI takes one); every file is checked even after a failure.
    const refused: string[] = [];
    for (const file of workflowFiles(context.root)) {
      if ((await command(context, join(context.root, ACTION_VALIDATOR), [file])).status !== 'passed') refused.push(file.slice(context.root.length + 1));
    }
    if (refused.length > 0) return { status: 'failed', reason: [eslint.reason, `action-validator refused ${refused.join(', ')}`].filter(Boolean).join('; ') };
    return eslint;
  },
  main: (context) => vitest(context, 'main', []),
  faults: (context) => vitest(context, 'faults', ['--config', 'test/faults/vitest.config.ts']),
  installers: async (context) => {
    const unavailable = installersUnavailable();
    if (unavailable) return { status: 'skipped', reason: unavailable };
    return command(context, 'bash', [join(context.root, '.ci/installers-test.sh')]);
  },
  msi: async (context) => {
    const unavailable = msiUnavailable();
    if (unavailable) return { status: 'skipped', reason: unavailable };
    return command(context, 'bash', [join(context.root, 'installers/windows/check-msi.sh')]);
  },
};

const TITLES: Record<PhaseName, string> = {
  typecheck: 'Typecheck (npm run typecheck)',
  lint: 'Lint (npm run lint)',
  main: 'Tests: unit, integration, security, end-to-end (vitest)',
  faults: 'Fault suite (test/faults, one file at a time)',
  installers: 'Installers (.ci/installers-test.sh)',
  msi: 'Windows MSI built with wixl and inspected with msiinfo (installers/windows/check-msi.sh)',
};

/** The machine's CPU time so far over every core (/proc/stat, in ticks): busy and total; null where there is none. */
function cpuTicks(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

function busyPercentSince(start: { busy: number; total: number } | null): number | undefined {
  const end = cpuTicks();
  if (!start || !end || end.total <= start.total) return undefined;
  return Math.round(((end.busy - start.busy) / (end.total - start.total)) * 100);
}

export async function runPhase(name: PhaseName, context: PhaseContext): Promise<PhaseResult> {
  if (context.logFile) appendFileSync(context.logFile, `\n==> ${TITLES[name]}\n`);
  else step(TITLES[name]);
  const started = Date.now();
  const ticks = cpuTicks();
  const result = await RUN[name](context);
  const cpuBusyPercent = busyPercentSince(ticks);
  return { name, ...result, seconds: Math.round((Date.now() - started) / 1000), ...(cpuBusyPercent === undefined ? {} : { cpuBusyPercent }) };
}
