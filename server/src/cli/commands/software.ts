import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait software --device ID [--json]

Lists the software installed on a device (as its agent last reported it): name, version,
architecture, publisher and where it came from (dpkg, rpm, registry, appx, macos-app, pkgutil).
${CLIENT_USAGE}`;

export const softwareCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, { ...clientOptions, device: { type: 'string' } }, usage);
    if (!values.device) throw new UsageError(`--device is required.\n${usage}`);
    const client = await localAdminClient(values);
    const { items, state } = await client.admin.patching.software.query({ device: values.device });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...state, items })}\n`);
      return;
    }
    if (!state) process.stdout.write('This device has not reported its software yet (agents report within a minute of starting).\n');
    printTable(items.map((item) => ({ ...item, installedAt: item.installedAt ?? '-' })), ['name', 'version', 'arch', 'source', 'publisher', 'installedAt']);
  },
};
