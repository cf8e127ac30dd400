#!/usr/bin/env node
// Entry point of `ninjait-agent`. Everything testable lives in cli.ts; this file only wires
// the process: argv, env, signals, exit code.
import { runCli } from './cli.ts';

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

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  signal: abort.signal,
});
// Exit explicitly: a lingering keep-alive socket or probe must not keep a finished command alive.
process.exit(code);
