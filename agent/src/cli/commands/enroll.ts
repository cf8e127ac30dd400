import { readFileSync } from 'node:fs';
import { UsageError } from '../../config/env.ts';
import { parsePin, showPin } from '../../config/server-pins.ts';
import { enrollAgent, type Enrolled } from '../../enroll.ts';
import { trpcCode } from '../../link/classify.ts';
import { describeConnectionError, hasCause, NotNinjaitServerError } from '../../link/describe-error.ts';
import { LinkError } from '../../link/types.ts';
import { createLogger } from '../../log.ts';
import { COMMAND_OPTIONS, GLOBAL_OPTIONS, parseCommand } from '../args.ts';
import { commonSettings, describeFsError } from '../common.ts';
import { EXIT, type CliIo } from '../io.ts';

/** `ninjait-agent enroll --server URL --token TOKEN [--pin sha256/...] [--ca-file PEM] [--insecure]` */
export async function enrollCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parseCommand({ ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS.enroll }, argv);
  const s = commonSettings(values, io.env);
  const server = values.server ?? s.env.NINJAIT_SERVER;
  const token = values.token ?? s.env.NINJAIT_TOKEN;
  if (!server) throw new UsageError('missing --server URL (or NINJAIT_SERVER)');
  if (!token) throw new UsageError('missing --token TOKEN (or NINJAIT_TOKEN)');
  if (!/^https?:\/\/[^/]/.test(server)) throw new UsageError(`--server must be an http:// or https:// URL (got "${server}")`);
  if (token.length < 16 || token.length > 256) throw new UsageError('--token does not look like an enrollment token (16 to 256 characters)');
  const pins = (values.pin ?? []).map(parsePin);
  if (pins.length > 0 && !server.startsWith('https:')) throw new UsageError('--pin applies to https:// servers only');
  const ca = values['ca-file'] === undefined ? undefined : readCaFile(values['ca-file']);

  const log = createLogger(s.env.LOG_LEVEL ?? 'warn', 2);
  try {
    const enrolled = await enrollAgent({
      server, token, paths: s.paths, log, bufferMaxMb: s.bufferMaxMb, pins, ca,
      insecure: values.insecure ?? s.env.NINJAIT_INSECURE ?? false,
    });
    io.stdout(enrolledText(enrolled, s.paths.configFile, dataDirHint(argv)));
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
      const what = hasCause(err, NotNinjaitServerError) ? 'Not a NinjaIT server' : 'Cannot reach the server';
      io.stderr(`${what} at ${server}: ${describeConnectionError(err)}\n`);
      return EXIT.failure;
    }
    throw err;
  }
}

function enrolledText({ config, enrollment, previous, pins }: Enrolled, configFile: string, hint: string): string {
  const again = previous ? ' (re-enrolled)' : '';
  const same = enrollment.reused ? 'existing device record' : 'new device record';
  const lines = [
    `Enrolled${again}: device ${config.deviceId} in organization ${config.organizationId} (${same}).`,
    `Server: ${config.server}`,
    ...(pins.length > 0 ? [`Server key pinned: ${pins.map(showPin).join(', ')}`] : []),
    `Config: ${configFile}`,
  ];
  if (enrollment.status === 'pending_approval') {
    lines.push(
      '',
      'Enrolled, waiting for an admin to approve this device: the server already knows this machine as another',
      'device, and this agent could not prove it is that device (it had no credentials for this server, or they',
      'were not accepted). An admin approves it in the console, as a new device or in place of the known one.',
      'Meanwhile the agent connects and keeps its data buffered, and no command reaches it. Start it anyway:',
    );
  } else {
    lines.push('Start the agent with:');
  }
  lines.push(`  ninjait-agent run${hint}`);
  return `${lines.join('\n')}\n`;
}

function readCaFile(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read --ca-file ${file}: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca-file ${file} holds no PEM certificate`);
  return pem;
}

/** The flags `run` needs to find the same data and reach the same server. */
function dataDirHint(argv: string[]): string {
  const parts: string[] = [];
  const i = argv.findIndex((a) => a === '--data-dir' || a.startsWith('--data-dir='));
  if (i >= 0) {
    const arg = argv[i] ?? '';
    parts.push(arg.includes('=') ? arg : `--data-dir ${argv[i + 1] ?? ''}`);
  }
  if (argv.includes('--insecure')) parts.push('--insecure');
  return parts.map((part) => ` ${part}`).join('');
}
