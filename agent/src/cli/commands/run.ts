import { mkdirSync } from 'node:fs';
import { runAgent } from '../../agent.ts';
import { readConfig } from '../../config/file.ts';
import { createLogger } from '../../log.ts';
import { COMMAND_OPTIONS, GLOBAL_OPTIONS, parseCommand } from '../args.ts';
import { commonSettings, describeFsError } from '../common.ts';
import { EXIT, type CliIo } from '../io.ts';

/** `ninjait-agent run`: runs until `io.signal` aborts (SIGINT/SIGTERM). */
export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const s = commonSettings(parseCommand({ ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS.run }, argv), io.env);
  const config = readConfig(s.paths.configFile);
  if (!config) {
    io.stderr(`Not enrolled (no ${s.paths.configFile}). Run: ninjait-agent enroll --server URL --token TOKEN\n`);
    return EXIT.notEnrolled;
  }
  const log = createLogger(s.env.LOG_LEVEL ?? 'info', 1);
  let agent;
  try {
    mkdirSync(s.paths.dataDir, { recursive: true, mode: 0o700 });
    agent = runAgent({
      config,
      outboxFile: s.paths.outboxFile,
      log,
      bufferMaxMb: s.bufferMaxMb,
      ...(s.intervalMs !== undefined && { intervalMs: s.intervalMs }),
    });
  } catch (err) {
    const fsMessage = describeFsError(err);
    if (!fsMessage) throw err;
    io.stderr(`Cannot start: ${fsMessage}\n`);
    return EXIT.failure;
  }
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log.info('stopping');
  await agent.stop();
  return EXIT.ok;
}
