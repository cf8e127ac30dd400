import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait devices --org ORG

Lists an organization's devices with status and latest values.
${CLIENT_USAGE}`;

const percent = (used: number, total: number) => (total > 0 ? `${((used / total) * 100).toFixed(0)}%` : '-');

export const devicesCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, { ...clientOptions, org: { type: 'string' } }, usage);
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    const devices = await client.admin.devices.list.query({ org: values.org });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(devices)}\n`);
      return;
    }
    printTable(devices.map((device) => {
      const latest = device.latest as { cpu?: { loadPercent: number }; memory?: { usedBytes: number; totalBytes: number } } | null;
      return {
        id: device.id, name: device.name, status: device.status, os: device.osType, ip: device.ipAddress,
        lastSeen: device.lastSeen,
        cpu: latest?.cpu ? `${latest.cpu.loadPercent.toFixed(0)}%` : '-',
        memory: latest?.memory ? percent(latest.memory.usedBytes, latest.memory.totalBytes) : '-',
      };
    }), ['id', 'name', 'status', 'os', 'ip', 'lastSeen', 'cpu', 'memory']);
  },
};
