import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait site create --org ORG --name NAME [--address TEXT] [--timezone ZONE]
       ninjait site list --org ORG
       ninjait site assign --org ORG <device> <site|none>

Sites are the places an organization's devices sit (an office, a branch, a data centre). A device
belongs to at most one site; "none" takes it off its site. Devices are named by name or id.
  --timezone ZONE   an IANA time zone such as Europe/Paris (default UTC)
${CLIENT_USAGE}`;

export const siteCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' }, address: { type: 'string' }, timezone: { type: 'string' },
    }, usage, true);
    const [action, device, site] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    if (action === 'list') {
      const sites = await client.admin.fleet.sites.list.query({ org: values.org });
      if (values.json) process.stdout.write(`${JSON.stringify(sites)}\n`);
      else printTable(sites, ['name', 'timezone', 'devices', 'address', 'id']);
    } else if (action === 'create') {
      if (!values.name) throw new UsageError(`--name is required.\n${usage}`);
      const created = await client.admin.fleet.sites.create.mutate({
        org: values.org, name: values.name, address: values.address ?? '', timezone: values.timezone ?? 'UTC',
      });
      process.stdout.write(values.json ? `${JSON.stringify(created)}\n` : `Created site "${created.name}" (${created.id}), ${created.timezone}\n`);
    } else if (action === 'assign' && device && site) {
      const result = await client.admin.fleet.sites.assign.mutate({ org: values.org, device, site: site.toLowerCase() === 'none' ? null : site });
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `Device ${result.deviceId} is ${result.siteId ? `on site ${site}` : 'on no site'}\n`);
    } else {
      throw new UsageError(usage);
    }
  },
};
