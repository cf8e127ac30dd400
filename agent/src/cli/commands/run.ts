import { userInfo } from 'node:os';
import { delimiter } from 'node:path';
import { runAgent } from '../../agent.ts';
import { readConfig } from '../../config/file.ts';
import { secureAgentPaths } from '../../config/paths.ts';
import { readServerPins, writeServerPins } from '../../config/server-pins.ts';
import { assertTransportAllowed } from '../../link/server-transport.ts';
import { createLogger } from '../../log.ts';
import { defaultAllowReboot } from '../../inventory/index.ts';
import { COMMAND_OPTIONS, GLOBAL_OPTIONS, parseCommand } from '../args.ts';
import { commonSettings, describeFsError } from '../common.ts';
import { EXIT, type CliIo } from '../io.ts';

/** `ninjait-agent run`: runs until `io.signal` aborts (SIGINT/SIGTERM). */
export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parseCommand({ ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS.run }, argv);
  const s = commonSettings(values, io.env);
  const config = readConfig(s.paths.configFile);
  if (!config) {
    io.stderr(`Not enrolled (no ${s.paths.configFile}). Run: ninjait-agent enroll --server URL --token TOKEN\n`);
    return EXIT.notEnrolled;
  }
  assertTransportAllowed(config.server, values.insecure ?? s.env.NINJAIT_INSECURE ?? false);
  const pins = readServerPins(s.paths.serverPinsFile);
  const log = createLogger(s.env.LOG_LEVEL ?? 'info', 1);
  let agent;
  try {
    secureAgentPaths(s.paths);
    agent = runAgent({
      config,
      outboxFile: s.paths.outboxFile,
      log,
      bufferMaxMb: s.bufferMaxMb,
      serverPins: pins && { pins, save: (next) => writeServerPins(s.paths.serverPinsFile, next) },
      linkStateFile: s.paths.linkStateFile,
      remote: {
        usePty: s.env.NINJAIT_PTY ?? true,
        fileRoots: s.env.NINJAIT_FILE_ROOTS?.split(delimiter).filter(Boolean) ?? [],
      },
      software: { allowReboot: s.env.NINJAIT_ALLOW_REBOOT ?? defaultAllowReboot({ platform: process.platform, uid: process.getuid?.() ?? null, username: userInfo().username }) },
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
