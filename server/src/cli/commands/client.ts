import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';
import { defaultOrg } from '../config.ts';

const usage = `
Usage: ninjait client list [--org PROVIDER]
       ninjait client create [--org PROVIDER] <name>

Client organizations of a provider (MSP). --org names the provider (id or name); left out, the
organization chosen with \`ninjait org use\`. The provider's staff can enter a new client at once.
${CLIENT_USAGE}`;

export const clientCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...clientOptions, org: { type: 'string' } }, usage, true);
    const [action, ...rest] = positionals;
    const org = await defaultOrg(values.org);
    if (!org) throw new UsageError(`--org is required (or choose one with ninjait org use).\n${usage}`);
    const client = await localAdminClient(values);
    if (action === 'list') {
      const clients = await client.admin.providers.clients.list.query({ org });
      if (values.json) process.stdout.write(`${JSON.stringify(clients)}\n`);
      else printTable(clients, ['id', 'name', 'people', 'devices', 'createdAt']);
      return;
    }
    if (action === 'create') {
      const name = rest.join(' ').trim();
      if (!name) throw new UsageError(`Give the client a name.\n${usage}`);
      const created = await client.admin.providers.clients.create.mutate({ org, name });
      if (values.json) process.stdout.write(`${JSON.stringify(created)}\n`);
      else process.stdout.write(`Created client organization "${created.name}" (${created.id})\n`);
      return;
    }
    throw new UsageError(usage);
  },
};
