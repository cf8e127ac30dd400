import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait asset list --org ORG [--search TEXT] [--kind KIND] [--warranty-days N]
       ninjait asset add --org ORG --name NAME --kind KIND [fields]
       ninjait asset update --org ORG ID [fields]
       ninjait asset remove --org ORG ID

Hardware the organization owns, enrolled or not. --warranty-days N lists assets whose warranty
ends within N days. Fields: --serial, --manufacturer, --model, --purchased YYYY-MM-DD,
--warranty-end YYYY-MM-DD, --assignee, --location, --notes, --device DEVICE_ID (the enrolled
device this asset is; "none" unlinks it). An empty value ("") clears a field.
${CLIENT_USAGE}`;

const FIELDS = {
  name: 'name', kind: 'kind', serial: 'serial', manufacturer: 'manufacturer', model: 'model', purchased: 'purchaseDate',
  'warranty-end': 'warrantyEnd', assignee: 'assignee', location: 'location', notes: 'notes',
} as const;

const fieldOptions = Object.fromEntries(Object.keys(FIELDS).map((flag) => [flag, { type: 'string' as const }])) as Record<keyof typeof FIELDS, { type: 'string' }>;

function fieldsOf(values: Partial<Record<string, string | boolean>>) {
  const fields: Record<string, string | null> = {};
  for (const [flag, key] of Object.entries(FIELDS)) {
    const value = values[flag];
    if (typeof value === 'string') fields[key] = value === '' && key !== 'name' && key !== 'kind' ? null : value;
  }
  if (typeof values.device === 'string') fields.deviceId = values.device === 'none' ? null : values.device;
  return fields;
}

const COLUMNS = ['id', 'name', 'kind', 'serial', 'model', 'assignee', 'location', 'warrantyEnd', 'deviceName'];

export const assetCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, ...fieldOptions, org: { type: 'string' }, search: { type: 'string' }, 'warranty-days': { type: 'string' }, device: { type: 'string' },
    }, usage, true);
    const [action, id] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    const print = (rows: Record<string, unknown>[]) => (values.json ? process.stdout.write(`${JSON.stringify(rows)}\n`) : printTable(rows, COLUMNS));
    switch (action) {
      case 'list': {
        const days = values['warranty-days'] === undefined ? undefined : Number(values['warranty-days']);
        if (days !== undefined && (!Number.isInteger(days) || days < 0 || days > 3_650)) throw new UsageError('--warranty-days is a whole number from 0 to 3650.');
        const { items, total } = await client.admin.assets.list.query({ org: values.org, search: values.search, kind: values.kind, warrantyWithinDays: days, limit: 500 });
        print(items);
        if (!values.json && total > items.length) process.stdout.write(`(${items.length} of ${total}; narrow with --search)\n`);
        return;
      }
      case 'add': {
        const fields = fieldsOf(values);
        if (!fields.name || !fields.kind) throw new UsageError(`--name and --kind are required.\n${usage}`);
        print([await client.admin.assets.create.mutate({ org: values.org, ...fields, name: fields.name, kind: fields.kind })]);
        return;
      }
      case 'update': {
        if (!id) throw new UsageError(`Give the asset's id.\n${usage}`);
        const fields = fieldsOf(values);
        if (fields.name === null || fields.kind === null) throw new UsageError('--name and --kind cannot be empty.');
        print([await client.admin.assets.update.mutate({ org: values.org, id, ...fields } as never)]);
        return;
      }
      case 'remove': {
        if (!id) throw new UsageError(`Give the asset's id.\n${usage}`);
        await client.admin.assets.remove.mutate({ org: values.org, id });
        if (!values.json) process.stdout.write(`Removed asset ${id}\n`);
        return;
      }
      default:
        throw new UsageError(usage);
    }
  },
};
