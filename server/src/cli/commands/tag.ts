import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait tag create --org ORG --name NAME
       ninjait tag list --org ORG
       ninjait tag add --org ORG --tag NAME... <device>...
       ninjait tag remove --org ORG --tag NAME... <device>...

Tags label devices freely ("web", "finance", "critical"); a device carries up to 50. Devices
are named by name or id; repeat --tag for several tags.
${CLIENT_USAGE}`;

export const tagCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...clientOptions, org: { type: 'string' }, name: { type: 'string' }, tag: { type: 'string', multiple: true } }, usage, true);
    const [action, ...devices] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    if (action === 'list') {
      const tags = await client.admin.fleet.tags.list.query({ org: values.org });
      if (values.json) process.stdout.write(`${JSON.stringify(tags)}\n`);
      else printTable(tags, ['name', 'devices', 'id']);
    } else if (action === 'create') {
      if (!values.name) throw new UsageError(`--name is required.\n${usage}`);
      const created = await client.admin.fleet.tags.create.mutate({ org: values.org, name: values.name });
      process.stdout.write(values.json ? `${JSON.stringify(created)}\n` : `Created tag "${created.name}" (${created.id})\n`);
    } else if ((action === 'add' || action === 'remove') && devices.length > 0) {
      if (!values.tag?.length) throw new UsageError(`--tag is required.\n${usage}`);
      const result = await client.admin.fleet.tags.assign.mutate({ org: values.org, devices, tags: values.tag, add: action === 'add' });
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${action === 'add' ? 'Added' : 'Removed'} ${result.changed} tag link(s)\n`);
    } else {
      throw new UsageError(usage);
    }
  },
};
