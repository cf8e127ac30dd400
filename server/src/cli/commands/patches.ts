import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait patches --org ORG | --device ID [--json]
       ninjait patches deploy (--org ORG | --device ID) [--name PACKAGE ...] [--now] [--retries N] [--json]

Without a subcommand: the pending operating-system updates (approved or not), the organization's
patch compliance and the latest deployments.

deploy: installs updates on the organization's devices (or one device): the named packages, or
every update the patch policy approves. They run in the policy's next maintenance window, or at
once with --now; each device reports a result per package.
${CLIENT_USAGE}`;

const options = {
  ...clientOptions,
  org: { type: 'string' }, device: { type: 'string' }, name: { type: 'string', multiple: true }, now: { type: 'boolean' }, retries: { type: 'string' },
} as const;

export const patchesCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, usage, true);
    const [sub, ...extra] = positionals;
    if (extra.length > 0 || (sub !== undefined && sub !== 'deploy')) throw new UsageError(`Unknown arguments: ${positionals.join(' ')}\n${usage}`);
    if (!values.org && !values.device) throw new UsageError(`--org or --device is required.\n${usage}`);
    const client = await localAdminClient(values);
    const ref = { ...(values.org ? { org: values.org } : {}), ...(values.device ? { device: values.device } : {}) };
    if (sub === 'deploy') {
      const retries = values.retries === undefined ? 2 : Number(values.retries);
      if (!Number.isInteger(retries) || retries < 0 || retries > 5) throw new UsageError(`--retries takes a number from 0 to 5.\n${usage}`);
      const result = await client.admin.patching.deploy.mutate({ ...ref, names: values.name, schedule: values.now ? 'now' : 'window', retries });
      if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`${result.deployments.length} deployment(s) created; follow them with: ninjait patches ${values.org ? `--org ${values.org}` : `--device ${values.device}`}\n`);
      return;
    }
    const { updates, compliance, deployments } = await client.admin.patching.pending.query(ref);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ updates, compliance, deployments })}\n`);
      return;
    }
    process.stdout.write(`Compliance: ${compliance.fullyPatched} of ${compliance.reporting} reporting device(s) fully patched (${compliance.percentPatched}%), `
      + `${compliance.missingSecurityByAge.over30Days} missing security updates for over 30 days, ${compliance.rebootPending} waiting for a reboot.\n\n`);
    printTable(updates.map((update) => ({ device: update.deviceId, name: update.name, from: update.currentVersion || '-', to: update.availableVersion,
      class: update.classification, severity: update.severity, approved: update.approved ? 'yes' : 'no' })), ['device', 'name', 'from', 'to', 'class', 'severity', 'approved']);
    if (deployments.length > 0) {
      process.stdout.write('\nLatest deployments:\n');
      printTable(deployments.map((d) => ({ id: d.id, device: d.deviceName ?? d.deviceId, status: d.status, patches: d.patches.map((p) => p.name).join(' '),
        notBefore: d.notBefore, error: d.error ?? '' })), ['id', 'device', 'status', 'patches', 'notBefore', 'error']);
    }
  },
};
