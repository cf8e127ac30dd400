import { UsageError } from '../../config/env.ts';
import { enrollAgent } from '../../enroll.ts';
import { trpcCode } from '../../link/classify.ts';
import { LinkError } from '../../link/types.ts';
import { createLogger } from '../../log.ts';
import { COMMAND_OPTIONS, GLOBAL_OPTIONS, parseCommand } from '../args.ts';
import { commonSettings, describeFsError } from '../common.ts';
import { EXIT, type CliIo } from '../io.ts';

/** `ninjait-agent enroll --server URL --token TOKEN` */
export async function enrollCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parseCommand({ ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS.enroll }, argv);
  const s = commonSettings(values, io.env);
  const server = values.server ?? s.env.NINJAIT_SERVER;
  const token = values.token ?? s.env.NINJAIT_TOKEN;
  if (!server) throw new UsageError('missing --server URL (or NINJAIT_SERVER)');
  if (!token) throw new UsageError('missing --token TOKEN (or NINJAIT_TOKEN)');
  if (!/^https?:\/\/[^/]/.test(server)) throw new UsageError(`--server must be an http:// or https:// URL (got "${server}")`);
  if (token.length < 16 || token.length > 256) throw new UsageError('--token does not look like an enrollment token (16 to 256 characters)');

  const log = createLogger(s.env.LOG_LEVEL ?? 'warn', 2);
  try {
    const { config, enrollment, previous } = await enrollAgent({ server, token, paths: s.paths, log, bufferMaxMb: s.bufferMaxMb });
    const again = previous ? ' (re-enrolled)' : '';
    const same = enrollment.reused ? 'existing device record' : 'new device record';
    io.stdout(
      `Enrolled${again}: device ${config.deviceId} in organization ${config.organizationId} (${same}).\n` +
        `Server: ${config.server}\nConfig: ${s.paths.configFile}\nStart the agent with: ninjait-agent run${dataDirHint(argv)}\n`,
    );
    return EXIT.ok;
  } catch (err) {
    const fsMessage = describeFsError(err);
    if (fsMessage) {
      io.stderr(`Enrollment failed: ${fsMessage}\n`);
      return EXIT.failure;
    }
    if (err instanceof LinkError) {
      const code = trpcCode(err.cause);
      if (code) {
        io.stderr(`Enrollment refused by ${server} (${code}): ${err.message}\nCheck the token (it may be expired, revoked or used up) and try again.\n`);
        return EXIT.refused;
      }
      io.stderr(`Cannot reach the server at ${server}: ${err.message}\n`);
      return EXIT.failure;
    }
    throw err;
  }
}

function dataDirHint(argv: string[]): string {
  const i = argv.findIndex((a) => a === '--data-dir' || a.startsWith('--data-dir='));
  if (i < 0) return '';
  const arg = argv[i] ?? '';
  return arg.includes('=') ? ` ${arg}` : ` --data-dir ${argv[i + 1] ?? ''}`;
}
