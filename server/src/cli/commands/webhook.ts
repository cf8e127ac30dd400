import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@ninjait/shared';
import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait webhook create --org ORG --name NAME --url URL --events TYPE[,TYPE…]
       ninjait webhook list --org ORG
       ninjait webhook deliveries --org ORG --webhook NAME|ID [--limit N]
       ninjait webhook resend --org ORG --webhook NAME|ID --event EVENT_ID

Event webhooks of an organization: each chosen event is POSTed once as JSON, signed with the
secret printed once at creation (X-NinjaIT-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">),
with X-NinjaIT-Event (the event's id, the same on retries and resends). A failing receiver is
retried with backoff; "deliveries" shows every attempt, "resend" sends an event again.
Event types: ${WEBHOOK_EVENT_TYPES.join(', ')} (or "all").
URLs that resolve to link-local or cloud-metadata addresses are refused; loopback and private
ones only when the server runs with WEBHOOK_ALLOW_PRIVATE=1.
${CLIENT_USAGE}`;

function eventTypes(text: string | undefined): WebhookEventType[] {
  if (!text) throw new UsageError(`--events is required.\n${usage}`);
  if (text.trim() === 'all') return [...WEBHOOK_EVENT_TYPES];
  const types = text.split(',').map((type) => type.trim()).filter(Boolean);
  const unknown = types.filter((type) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type));
  if (unknown.length > 0 || types.length === 0) throw new UsageError(`Unknown event type(s): ${unknown.join(', ') || '(none)'}. Choose from ${WEBHOOK_EVENT_TYPES.join(', ')}.`);
  return types as WebhookEventType[];
}

export const webhookCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' }, url: { type: 'string' }, events: { type: 'string' },
      webhook: { type: 'string' }, event: { type: 'string' }, limit: { type: 'string' },
    }, usage, true);
    const [action] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
    switch (action) {
      case 'create': {
        if (!values.name || !values.url) throw new UsageError(`--name and --url are required.\n${usage}`);
        const types = eventTypes(values.events);
        const client = await localAdminClient(values);
        const created = await client.admin.webhooks.create.mutate({ org: values.org, name: values.name, url: values.url, eventTypes: types });
        if (values.json) return void print(created);
        process.stdout.write(`Created webhook "${created.subscription.name}" (${created.subscription.id}) for ${types.join(', ')}\n`);
        process.stdout.write(`Signing secret (shown only now): ${created.signingSecret}\n`);
        return;
      }
      case 'list': {
        const client = await localAdminClient(values);
        const list = await client.admin.webhooks.list.query({ org: values.org });
        if (values.json) return void print(list);
        printTable(list.map((s) => ({ ...s, eventTypes: s.eventTypes.join(',') })), ['name', 'url', 'eventTypes', 'enabled', 'pending', 'consecutiveFailures', 'lastError']);
        return;
      }
      case 'deliveries': {
        if (!values.webhook) throw new UsageError(`--webhook is required.\n${usage}`);
        const limit = values.limit ? Number(values.limit) : 50;
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit is a whole number from 1 to 500.');
        const client = await localAdminClient(values);
        const log = await client.admin.webhooks.deliveries.query({ org: values.org, webhook: values.webhook, limit });
        if (values.json) return void print(log);
        printTable(log, ['createdAt', 'eventType', 'eventId', 'attempt', 'ok', 'statusCode', 'state', 'error']);
        return;
      }
      case 'resend': {
        if (!values.webhook || !values.event) throw new UsageError(`--webhook and --event are required.\n${usage}`);
        const client = await localAdminClient(values);
        const queued = await client.admin.webhooks.resend.mutate({ org: values.org, webhook: values.webhook, eventId: values.event });
        if (values.json) return void print(queued);
        process.stdout.write(`Event ${values.event} queued again for "${values.webhook}"\n`);
        return;
      }
      default:
        throw new UsageError(usage);
    }
  },
};
