import { ConfigError } from '../config/index.ts';
import { UsageError, type Command } from './args.ts';
import { describeError } from './client.ts';
import { serveCommand } from './commands/serve.ts';
import { startCommand } from './commands/start.ts';
import { orgCommand } from './commands/org.ts';
import { userCommand } from './commands/user.ts';
import { tokenCommand } from './commands/token.ts';
import { devicesCommand } from './commands/devices.ts';
import { installerCommand } from '../updates/cli-command.ts';
import { runCommand } from './commands/run.ts';

const commands: Record<string, Command> = {
  serve: serveCommand,
  start: startCommand,
  org: orgCommand,
  user: userCommand,
  token: tokenCommand,
  devices: devicesCommand,
  installer: installerCommand,
  run: runCommand,
};

const usage = `Usage: ninjait <command> [options]

Commands:
${Object.entries(commands).map(([name, command]) => `  ${name.padEnd(10)}${command.summary}`).join('\n')}

Run \`ninjait <command> --help\` for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`Unknown command "${name}".\n\n${usage}\n`);
    return 2;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(`Error: ${describeError(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
