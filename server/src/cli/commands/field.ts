import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait field create --org ORG --name NAME --type text|number|boolean|date|select [--option VALUE]... [--required]
       ninjait field list --org ORG
       ninjait field set --org ORG <device> <field> <value|--clear>

Custom fields hold what the agent cannot know: the owner, a rack number, a purchase date. Each
value is checked against the field's type: numbers, true/false, dates as YYYY-MM-DD, or one of a
select field's options (--option, repeated). A required field cannot be cleared.
${CLIENT_USAGE}`;

const TYPES = ['text', 'number', 'boolean', 'date', 'select'] as const;

export const fieldCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' },
      option: { type: 'string', multiple: true }, required: { type: 'boolean' }, clear: { type: 'boolean' },
    }, usage, true);
    const [action, device, field, value] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    if (action === 'list') {
      const fields = await client.admin.fleet.fields.list.query({ org: values.org });
      if (values.json) process.stdout.write(`${JSON.stringify(fields)}\n`);
      else printTable(fields.map((f) => ({ ...f, options: f.options.join(', ') })), ['name', 'type', 'required', 'options', 'id']);
    } else if (action === 'create') {
      const type = values.type as (typeof TYPES)[number];
      if (!values.name || !TYPES.includes(type)) throw new UsageError(`--name and --type (${TYPES.join(', ')}) are required.\n${usage}`);
      const created = await client.admin.fleet.fields.create.mutate({ org: values.org, name: values.name, type, options: values.option ?? [], required: values.required ?? false });
      process.stdout.write(values.json ? `${JSON.stringify(created)}\n` : `Created ${created.type} field "${created.name}" (${created.id})\n`);
    } else if (action === 'set' && device && field && (value !== undefined || values.clear)) {
      const result = await client.admin.fleet.fields.set.mutate({ org: values.org, device, field, value: values.clear ? null : value! });
      if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else printTable(result, ['name', 'type', 'value']);
    } else {
      throw new UsageError(usage);
    }
  },
};
