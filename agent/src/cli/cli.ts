import { AGENT_VERSION } from '@ninjait/shared';
import { UsageError } from '../config/env.ts';
import { findCommand, type Command } from './args.ts';
import { HELP } from './help.ts';
import { EXIT, type CliIo } from './io.ts';

type CommandFn = (argv: string[], io: CliIo) => number | Promise<number>;
/** Loaded on demand so `--help` does not pay for SQLite, tRPC and systeminformation. */
const COMMANDS: Record<Command, () => Promise<CommandFn>> = {
  enroll: async () => (await import('./commands/enroll.ts')).enrollCommand,
  run: async () => (await import('./commands/run.ts')).runCommand,
  status: async () => (await import('./commands/status.ts')).statusCommand,
};
const isCommand = (c: string): c is Command => Object.hasOwn(COMMANDS, c);

/** Runs `ninjait-agent` with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  let command: string | undefined;
  try {
    command = findCommand(argv);
  } catch (err) {
    io.stderr(`ninjait-agent: ${(err as Error).message}\n\n${HELP.main}`);
    return EXIT.usage;
  }
  if (command === 'help') {
    const topic = argv.filter((a) => !a.startsWith('-'))[1];
    io.stdout(topic && isCommand(topic) ? HELP[topic] : HELP.main);
    return EXIT.ok;
  }
  if (command === undefined) {
    if (argv.includes('--version') || argv.includes('-v')) {
      io.stdout(`${AGENT_VERSION}\n`);
      return EXIT.ok;
    }
    if (wantsHelp) {
      io.stdout(HELP.main);
      return EXIT.ok;
    }
    io.stderr(`ninjait-agent: missing command\n\n${HELP.main}`);
    return EXIT.usage;
  }
  if (!isCommand(command)) {
    io.stderr(`ninjait-agent: unknown command "${command}"\n\n${HELP.main}`);
    return EXIT.usage;
  }
  if (wantsHelp) {
    io.stdout(HELP[command]);
    return EXIT.ok;
  }
  try {
    const fn = await COMMANDS[command]();
    return await fn(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`ninjait-agent ${command}: ${err.message}\nRun "ninjait-agent ${command} --help" for usage.\n`);
      return EXIT.usage;
    }
    io.stderr(`ninjait-agent ${command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failure;
  }
}
