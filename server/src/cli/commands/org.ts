import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';
import { cliConfigPath, readCliConfig, writeCliConfig } from '../config.ts';

const usage = `
Usage: ninjait org create [--provider] <name>
       ninjait org list
       ninjait org use <id-or-name>
       ninjait org use --clear
       ninjait org current

  --provider   the new organization serves clients (an MSP): its admins create client organizations
  use          remember the organization commands act in when --org is left out
               (kept in $NINJAIT_CONFIG, else ~/.config/ninjait/cli.json)
${CLIENT_USAGE}`;

export const orgCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...clientOptions, provider: { type: 'boolean' }, clear: { type: 'boolean' } }, usage, true);
    const [action, ...rest] = positionals;
    if (action === 'current') {
      const { org } = await readCliConfig();
      if (values.json) process.stdout.write(`${JSON.stringify(org ?? null)}\n`);
      else process.stdout.write(org ? `${org.name} (${org.id})\n` : 'No organization chosen: commands need --org (see ninjait org use)\n');
      return;
    }
    if (action === 'use' && values.clear) {
      const { org: _dropped, ...config } = await readCliConfig();
      await writeCliConfig(config);
      process.stdout.write('Commands need --org again\n');
      return;
    }
    const client = await localAdminClient(values);
    if (action === 'create') {
      const name = rest.join(' ').trim();
      if (!name) throw new UsageError(`Give the organization a name.\n${usage}`);
      const org = await client.admin.organizations.create.mutate({ name, provider: values.provider ?? false });
      if (values.json) process.stdout.write(`${JSON.stringify(org)}\n`);
      else process.stdout.write(`Created organization "${org.name}" (${org.id})\n`);
      return;
    }
    if (action === 'list') {
      const orgs = await client.admin.organizations.list.query();
      if (values.json) process.stdout.write(`${JSON.stringify(orgs)}\n`);
      else printTable(orgs, ['id', 'name', 'createdAt']);
      return;
    }
    if (action === 'use') {
      const ref = rest.join(' ').trim();
      if (!ref) throw new UsageError(`Name the organization to use.\n${usage}`);
      const orgs = await client.admin.organizations.list.query();
      const org = orgs.find((entry) => entry.id === ref) ?? orgs.find((entry) => entry.name.toLowerCase() === ref.toLowerCase());
      if (!org) throw new UsageError(`No organization "${ref}" on this server (see ninjait org list)`);
      await writeCliConfig({ ...(await readCliConfig()), org: { id: org.id, name: org.name } });
      process.stdout.write(`Using organization "${org.name}" (${org.id}); saved in ${cliConfigPath()}\n`);
      return;
    }
    throw new UsageError(usage);
  },
};
