#!/usr/bin/env node
// Entry point of `ninjait-agent`. Everything testable lives in cli.ts; this file only wires
// the process: argv, env, signals, exit code.
import { restrictUmask } from '../util/private-files.ts';
import { runCli } from './cli.ts';

// Before anything is written: the device secret, the outbox and SQLite's side files are the agent's alone.
restrictUmask();

const abort = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals) => {
  // A second signal means the person is done waiting for a clean stop.
  if (++signals > 1) process.exit(130);
  abort.abort(sig);
  // Stopping is bounded to ~2 s; never let a stuck handle keep the service manager waiting.
  setTimeout(() => process.exit(1), 3_000).unref();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Started by a parent that holds an IPC channel (`ninjait start`'s local agent): when that parent
// dies, even by SIGKILL, the channel closes and the agent stops as on SIGTERM instead of living on
// as an orphan. A service manager starts the agent without a channel, so nothing changes there.
if (process.channel) {
  process.once('disconnect', () => onSignal('SIGTERM'));
  // The channel must not keep a finished agent alive.
  process.channel.unref();
}
// A parent that died before the line above ran closed the channel unseen: the parent's pid, when
// it gave one, is checked too (a re-parented process has another ppid).
const parentPid = Number(process.env.NINJAIT_PARENT_PID) || 0;
if (parentPid > 0) {
  const watch = setInterval(() => {
    if (process.ppid !== parentPid) onSignal('SIGTERM');
  }, 1_000);
  watch.unref();
}

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  signal: abort.signal,
});
// Exit explicitly: a lingering keep-alive socket or probe must not keep a finished command alive.
process.exit(code);
