import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait org create <name>
       ninjait org list
${CLIENT_USAGE}`;

export const orgCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, clientOptions, usage, true);
    const [action, ...rest] = positionals;
    const client = await localAdminClient(values);
    if (action === 'create') {
      const name = rest.join(' ').trim();
      if (!name) throw new UsageError(`Give the organization a name.\n${usage}`);
      const org = await client.admin.organizations.create.mutate({ name });
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
    throw new UsageError(usage);
  },
};
