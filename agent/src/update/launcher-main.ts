// Entry point of the installed `ninjait-agent` (bundled to <home>/lib/launcher.mjs and run by
// the packaged Node runtime). It starts the right agent version as a child process and, for
// `run`, supervises it: auto-update, trial of a new version, rollback. It lives in the
// read-only package folder, so a broken update can never break the thing that rolls it back.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCommand } from '../cli/args.ts';
import { resolvePaths } from '../config/paths.ts';
import { parseLauncherEnv } from './env.ts';
import { updateLayout } from './layout.ts';
import { resolveLaunchTarget } from './launch-target.ts';
import { supervise } from './supervisor.ts';
import { restrictUmask } from '../util/private-files.ts';

// Downloads, unpacked versions and the update state are the agent account's alone (children inherit it).
restrictUmask();

const args = process.argv.slice(2);
const baseDir = dirname(dirname(fileURLToPath(import.meta.url)));
const env = parseLauncherEnv(process.env);
const dataDirFlag = args.find((a) => a.startsWith('--data-dir='))?.slice('--data-dir='.length)
  ?? (args.includes('--data-dir') ? args[args.indexOf('--data-dir') + 1] : undefined);
const paths = resolvePaths({ dataDir: dataDirFlag ?? env.NINJAIT_DATA_DIR, programData: process.env.ProgramData });
const layout = updateLayout(paths.dataDir);
const serverPinsFile = paths.serverPinsFile;

const log = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}) => {
  const levelNumber = { info: 30, warn: 40, error: 50 }[level];
  process.stderr.write(`${JSON.stringify({ level: levelNumber, time: Date.now(), name: 'ninjait-launcher', pid: process.pid, ...fields, msg })}\n`);
};

const abort = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => abort.abort(sig));

let code: number;
if (findCommand(args) === 'run') {
  code = await supervise({
    args, baseDir, layout, configFile: paths.configFile, serverPinsFile,
    publicKeyFile: env.NINJAIT_UPDATE_KEY ?? join(paths.configDir, 'update-key.pub'),
    platform: process.platform, arch: process.arch, updates: env.NINJAIT_UPDATE === 'on',
    checkIntervalMs: env.NINJAIT_UPDATE_CHECK_SEC * 1000,
    firstCheckMs: env.NINJAIT_UPDATE_FIRST_CHECK_SEC * 1000,
    confirmLimitMs: env.NINJAIT_UPDATE_CONFIRM_SEC * 1000,
    confirmPollMs: env.NINJAIT_UPDATE_CONFIRM_POLL_SEC * 1000,
    retryFailedAfterMs: env.NINJAIT_UPDATE_RETRY_FAILED_SEC * 1000,
    insecure: args.includes('--insecure') || env.NINJAIT_INSECURE === '1' || env.NINJAIT_INSECURE === 'true',
    log,
  }, abort.signal);
} else {
  // enroll, status, --help, --version: run the current version once, no supervision.
  const target = resolveLaunchTarget(layout, baseDir);
  const child = spawn(target.node, [target.script, ...args], { stdio: 'inherit' });
  abort.signal.addEventListener('abort', () => child.kill('SIGTERM'), { once: true });
  code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 128 : 1))));
}
process.exit(code);
