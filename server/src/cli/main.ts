import { ConfigError } from '../platform/config/index.ts';
import { UsageError, type Command } from './args.ts';
import { describeError } from './client.ts';

/**
 * Each command's module is loaded only when it runs: `serve` and `start` pull in every store
 * driver (PGlite, chdb, BullMQ, MongoDB...), which cost a client command like `ninjait alerts`
 * two seconds of CPU before it sent a request.
 */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run the server', load: async () => (await import('./commands/serve.ts')).serveCommand },
  start: { summary: 'quick start: server on embedded stores plus a local agent', load: async () => (await import('./commands/start.ts')).startCommand },
  org: { summary: 'create, list or choose organizations', load: async () => (await import('./commands/org.ts')).orgCommand },
  client: { summary: 'list or create a provider\'s client organizations', load: async () => (await import('./commands/client.ts')).clientCommand },
  grant: { summary: 'give, list or take back access to a client organization', load: async () => (await import('./commands/grant.ts')).grantCommand },
  user: { summary: 'create a user', load: async () => (await import('./commands/user.ts')).userCommand },
  token: { summary: 'create, list or revoke enrollment tokens', load: async () => (await import('./commands/token.ts')).tokenCommand },
  devices: { summary: 'list devices with status and latest values', load: async () => (await import('./commands/devices.ts')).devicesCommand },
  installer: { summary: 'print the one-line agent install command for each OS', load: async () => (await import('./commands/installer.ts')).installerCommand },
  run: { summary: 'run a command on a device and stream its output', load: async () => (await import('./commands/run.ts')).runCommand },
  channel: { summary: 'create or list notification channels (email, webhook, Slack, Teams)', load: async () => (await import('./commands/channel.ts')).channelCommand },
  webhook: { summary: 'create, list event webhooks; show their deliveries; resend an event', load: async () => (await import('./commands/webhook.ts')).webhookCommand },
  rule: { summary: 'create, change or list alert rules', load: async () => (await import('./commands/rule.ts')).ruleCommand },
  alerts: { summary: "list an organization's alerts", load: async () => (await import('./commands/alerts.ts')).alertsCommand },
  software: { summary: "list a device's installed software", load: async () => (await import('./commands/software.ts')).softwareCommand },
  patches: { summary: 'pending updates, compliance, and deploying patches', load: async () => (await import('./commands/patches.ts')).patchesCommand },
  shell: { summary: 'open a terminal on a device', load: async () => (await import('./commands/shell.ts')).shellCommand },
  cp: { summary: 'copy a file to or from a device (DEVICE:PATH)', load: async () => (await import('./commands/cp.ts')).cpCommand },
  contract: { summary: "show or set an organization's contract (its prices)", load: async () => (await import('./commands/contract.ts')).contractCommand },
  asset: { summary: 'list, add, change or remove hardware assets', load: async () => (await import('./commands/asset.ts')).assetCommand },
  site: { summary: 'create or list sites, or put a device on one', load: async () => (await import('./commands/site.ts')).siteCommand },
  tag: { summary: 'create or list tags, or add and remove them on devices', load: async () => (await import('./commands/tag.ts')).tagCommand },
  field: { summary: 'define typed custom fields, or set a device\'s value', load: async () => (await import('./commands/field.ts')).fieldCommand },
  script: { summary: 'create, list, run and schedule saved scripts', load: async () => (await import('./commands/script.ts')).scriptCommand },
  group: { summary: 'create or list dynamic device groups, or show a group\'s devices', load: async () => (await import('./commands/group.ts')).groupCommand },
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
    return (await (await command.load()).run(rest)) ?? 0;
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
