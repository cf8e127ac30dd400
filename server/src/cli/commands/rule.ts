import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';
import { describeCondition, parseDuration } from '../../features/alerts/index.ts';

const usage = `
Usage: ninjait rule create --org ORG --name NAME --when CONDITION [--for DURATION] [--clear-below N | --clear-above N]
                           [--every DURATION] [--timeout DURATION]
                           [--severity info|warning|critical] [--channel NAME]... [--ticket]
                           [--scope site:NAME|group:NAME|tag:NAME] [--exclude DEVICE]...
       ninjait rule update --org ORG <rule-name-or-id> [--when CONDITION [--for D] [--clear-below N] [--every D]] [--severity S] [--enable|--disable]
       ninjait rule list --org ORG

Alert rules watch every device of the organization (or of a site, group or tag). CONDITION is one of:
  'cpu > 90'  'memory >= 80'  'disk > 90'  'disk:/var > 95'  'network_errors > 10'   (percent; errors per minute)
  'offline > 10m'  'dropping'  'version_behind'
  'script NAME exit != 0'   a script check: the saved script NAME (or id; quote a name with spaces: 'script "Disk check" ...')
                            runs on each device every --every (default 5m, at least 1m); the alert opens when a run fails
                            and resolves when one passes. Tests: 'exit != 0', 'exit == 2', 'output ~ /PATTERN/' (fails when
                            the output matches), 'output !~ /PATTERN/i' (fails when it does not; i ignores case), joined by
                            'or'. A run that times out (--timeout, default 1m) fails. Patterns are at most 200 characters;
                            back-references and nested repeats like (a+)+ are refused (they can take exponential time).
  --for 5m          the condition must hold this long before the alert opens (s, m, h, d)
  --every 5m        script checks: how often the script runs on each device
  --timeout 1m      script checks: the longest a run may take (it fails beyond; at most --every)
  --clear-below N   hysteresis: a '>' alert resolves only once the value is below N (--clear-above for '<')
  --channel NAME    notify this channel (repeat for several); see \`ninjait channel\`
  --ticket          open a ticket for each alert (closed when the alert resolves)
  --scope S         watch only a site, a saved group or a tag's devices (see \`ninjait site|group|tag\`)
  --exclude DEVICE  leave this device (name or id) out of the rule (repeat for several)
${CLIENT_USAGE}`;

const SEVERITIES = ['info', 'warning', 'critical'] as const;

function number(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${flag} takes a number of 0 or more, not "${text}".`);
  return value;
}

function duration(text: string | undefined, flag = '--for'): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

function severity(text: string | undefined) {
  if (text === undefined) return undefined;
  if (!(SEVERITIES as readonly string[]).includes(text)) throw new UsageError(`--severity is one of ${SEVERITIES.join(', ')}.`);
  return text as (typeof SEVERITIES)[number];
}

export const ruleCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' }, when: { type: 'string' }, for: { type: 'string' },
      every: { type: 'string' }, timeout: { type: 'string' }, 'clear-below': { type: 'string' }, 'clear-above': { type: 'string' }, severity: { type: 'string' },
      channel: { type: 'string', multiple: true }, ticket: { type: 'boolean' }, scope: { type: 'string' }, exclude: { type: 'string', multiple: true }, enable: { type: 'boolean' }, disable: { type: 'boolean' },
    }, usage, true);
    const [action, ref] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const clear = number(values['clear-below'] ?? values['clear-above'], values['clear-below'] ? '--clear-below' : '--clear-above');
    const forSec = duration(values.for);
    const everySec = duration(values.every, '--every');
    const timeoutSec = duration(values.timeout, '--timeout');
    const client = await localAdminClient(values);
    let rule;
    if (action === 'create') {
      if (!values.name || !values.when) throw new UsageError(`--name and --when are required.\n${usage}`);
      rule = await client.admin.alerting.rules.create.mutate({
        org: values.org, name: values.name, when: values.when, forSec, clear, everySec, timeoutSec, severity: severity(values.severity) ?? 'warning',
        channels: values.channel ?? [], ticket: values.ticket ?? false, scope: values.scope, exclude: values.exclude ?? [],
      });
    } else if (action === 'update' && ref) {
      if (values.enable && values.disable) throw new UsageError('--enable and --disable exclude each other.');
      rule = await client.admin.alerting.rules.update.mutate({
        org: values.org, rule: ref, when: values.when, forSec, clear, everySec, timeoutSec, severity: severity(values.severity),
        enabled: values.enable ? true : values.disable ? false : undefined,
      });
    } else if (action === 'list') {
      const rules = await client.admin.alerting.rules.list.query({ org: values.org });
      if (values.json) process.stdout.write(`${JSON.stringify(rules)}\n`);
      else printTable(rules.map((r) => ({ ...r, condition: describeCondition(r.condition), channels: r.channelIds.length })), ['name', 'condition', 'severity', 'channels', 'openTicket', 'enabled']);
      return;
    } else {
      throw new UsageError(usage);
    }
    if (values.json) process.stdout.write(`${JSON.stringify(rule)}\n`);
    else process.stdout.write(`Rule "${rule.name}" (${rule.id}): ${describeCondition(rule.condition)}, ${rule.severity}${rule.enabled ? '' : ', disabled'}\n`);
  },
};
