import { ConfigError } from '../platform/config/index.ts';
import { UsageError, type Command } from './args.ts';
import { describeError } from './client.ts';
import { serveCommand } from './commands/serve.ts';
import { startCommand } from './commands/start.ts';
import { orgCommand } from './commands/org.ts';
import { clientCommand } from './commands/client.ts';
import { grantCommand } from './commands/grant.ts';
import { userCommand } from './commands/user.ts';
import { tokenCommand } from './commands/token.ts';
import { devicesCommand } from './commands/devices.ts';
import { installerCommand } from './commands/installer.ts';
import { runCommand } from './commands/run.ts';
import { channelCommand } from './commands/channel.ts';
import { webhookCommand } from './commands/webhook.ts';
import { ruleCommand } from './commands/rule.ts';
import { alertsCommand } from './commands/alerts.ts';
import { softwareCommand } from './commands/software.ts';
import { patchesCommand } from './commands/patches.ts';
import { shellCommand } from './commands/shell.ts';
import { cpCommand } from './commands/cp.ts';
import { contractCommand } from './commands/contract.ts';
import { assetCommand } from './commands/asset.ts';
import { siteCommand } from './commands/site.ts';
import { tagCommand } from './commands/tag.ts';
import { fieldCommand } from './commands/field.ts';
import { groupCommand } from './commands/group.ts';

const commands: Record<string, Command> = {
  serve: serveCommand,
  start: startCommand,
  org: orgCommand,
  client: clientCommand,
  grant: grantCommand,
  user: userCommand,
  token: tokenCommand,
  devices: devicesCommand,
  installer: installerCommand,
  run: runCommand,
  channel: channelCommand,
  webhook: webhookCommand,
  rule: ruleCommand,
  alerts: alertsCommand,
  software: softwareCommand,
  patches: patchesCommand,
  shell: shellCommand,
  cp: cpCommand,
  contract: contractCommand,
  asset: assetCommand,
  site: siteCommand,
  tag: tagCommand,
  field: fieldCommand,
  group: groupCommand,
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
