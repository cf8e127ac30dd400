import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait channel create --org ORG --name NAME --type webhook|slack|teams --url URL [--min-severity S]
       ninjait channel create --org ORG --name NAME --type email --to ADDRESS [--min-severity S]
       ninjait channel list --org ORG

Notification channels of an organization. Webhooks are signed: the signing secret is printed
once, at creation (header X-NinjaIT-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">).
URLs that resolve to link-local or cloud-metadata addresses are refused; loopback and private
ones only when the server runs with WEBHOOK_ALLOW_PRIVATE=1. Email needs SMTP_URL on the server.
  --min-severity S  info (default), warning or critical: quieter alerts skip this channel
${CLIENT_USAGE}`;

const KINDS = ['webhook', 'slack', 'teams', 'email'] as const;
const SEVERITIES = ['info', 'warning', 'critical'] as const;

export const channelCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' },
      url: { type: 'string' }, to: { type: 'string' }, 'min-severity': { type: 'string' },
    }, usage, true);
    const [action] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    if (action === 'list') {
      const client = await localAdminClient(values);
      const channels = await client.admin.alerting.channels.list.query({ org: values.org });
      if (values.json) process.stdout.write(`${JSON.stringify(channels)}\n`);
      else printTable(channels, ['name', 'kind', 'target', 'minSeverity', 'pending', 'consecutiveFailures', 'lastError']);
      return;
    }
    if (action !== 'create') throw new UsageError(usage);
    const kind = values.type as (typeof KINDS)[number];
    if (!values.name || !KINDS.includes(kind)) throw new UsageError(`--name and --type (${KINDS.join(', ')}) are required.\n${usage}`);
    const target = kind === 'email' ? values.to : values.url;
    if (!target) throw new UsageError(`--type ${kind} needs ${kind === 'email' ? '--to ADDRESS' : '--url URL'}.\n${usage}`);
    const minSeverity = (values['min-severity'] ?? 'info') as (typeof SEVERITIES)[number];
    if (!SEVERITIES.includes(minSeverity)) throw new UsageError(`--min-severity is one of ${SEVERITIES.join(', ')}.`);
    const client = await localAdminClient(values);
    const created = await client.admin.alerting.channels.create.mutate({ org: values.org, name: values.name, kind, target, minSeverity });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(created)}\n`);
      return;
    }
    process.stdout.write(`Created ${kind} channel "${created.channel.name}" (${created.channel.id})\n`);
    if (created.signingSecret) process.stdout.write(`Signing secret (shown only now): ${created.signingSecret}\n`);
  },
};
