import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait alerts --org ORG [--state open|acknowledged|resolved] [--severity info|warning|critical] [--limit N] [--json]

An organization's alerts, newest first. Acknowledge and resolve them in the console.
${CLIENT_USAGE}`;

const STATES = ['open', 'acknowledged', 'resolved'] as const;
const SEVERITIES = ['info', 'warning', 'critical'] as const;
const MAX_LIMIT = 500;

export const alertsCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, { ...clientOptions, org: { type: 'string' }, state: { type: 'string' }, severity: { type: 'string' }, limit: { type: 'string' } }, usage);
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const state = values.state as (typeof STATES)[number] | undefined;
    if (state && !STATES.includes(state)) throw new UsageError(`--state is one of ${STATES.join(', ')}.`);
    const severity = values.severity as (typeof SEVERITIES)[number] | undefined;
    if (severity && !SEVERITIES.includes(severity)) throw new UsageError(`--severity is one of ${SEVERITIES.join(', ')}.`);
    const limit = values.limit ? Number(values.limit) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new UsageError(`--limit is a whole number from 1 to ${MAX_LIMIT}.`);
    const client = await localAdminClient(values);
    const alerts = await client.admin.alerting.alerts.list.query({ org: values.org, state, severity, limit });
    if (values.json) process.stdout.write(`${JSON.stringify(alerts)}\n`);
    else printTable(alerts, ['state', 'severity', 'deviceName', 'ruleName', 'title', 'openedAt', 'resolvedAt']);
  },
};
