import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait group create --org ORG --name NAME --where CONDITION... [--any] [--description TEXT]
       ninjait group list --org ORG
       ninjait group members --org ORG <group>

A group is a saved filter, evaluated whenever it is used: devices join and leave it as they change.
Every --where must hold (or at least one, with --any). CONDITION is one of:
  os=linux   os~ubuntu          OS type equals, or OS type and version contain
  site=HQ    site=none          on a site (by name), or on none
  tag=web                       carries a tag
  status=online | status=offline
  field:Rack>3  field:Rack<10  field:Owner=ops  field:Owner~ops  field:Bought<2024-01-01
                                a custom field equals (=), contains (~), is below (<) or above (>)
${CLIENT_USAGE}`;

type Op = 'equals' | 'contains' | '<' | '>';
const OPS: Record<string, Op> = { '=': 'equals', '~': 'contains', '<': '<', '>': '>' };

/** One --where in the words of the usage, as the server's CLI condition. */
export function parseWhere(text: string): { kind: 'os' | 'site' | 'tag' | 'status' | 'field'; op: Op; ref?: string; value?: string } {
  const field = /^field:(.+?)([=~<>])(.+)$/.exec(text);
  if (field) return { kind: 'field', ref: field[1]!.trim(), op: OPS[field[2]!]!, value: field[3]!.trim() };
  const plain = /^(os|site|tag|status)([=~])(.+)$/.exec(text);
  if (!plain) throw new UsageError(`Cannot read --where "${text}".\n${usage}`);
  const [, kind, sign, rest] = plain as unknown as [string, 'os' | 'site' | 'tag' | 'status', string, string];
  if (sign === '~' && kind !== 'os') throw new UsageError(`"~" (contains) applies to os and fields only: "${text}"`);
  if (kind === 'status' && rest !== 'online' && rest !== 'offline') throw new UsageError(`status is online or offline, not "${rest}"`);
  return kind === 'site' || kind === 'tag' ? { kind, op: 'equals', ref: rest.trim() } : { kind, op: OPS[sign]!, value: rest.trim() };
}

export const groupCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' }, where: { type: 'string', multiple: true },
      any: { type: 'boolean' }, description: { type: 'string' },
    }, usage, true);
    const [action, group] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    if (action === 'create') {
      if (!values.name) throw new UsageError(`--name is required.\n${usage}`);
      const conditions = (values.where ?? []).map(parseWhere);
      const client = await localAdminClient(values);
      const created = await client.admin.fleet.groups.create.mutate({
        org: values.org, name: values.name, description: values.description ?? '', match: values.any ? 'any' : 'all', conditions,
      });
      process.stdout.write(values.json ? `${JSON.stringify(created)}\n` : `Created group "${created.name}" (${created.id})\n`);
      return;
    }
    const client = await localAdminClient(values);
    if (action === 'list') {
      const groups = await client.admin.fleet.groups.list.query({ org: values.org });
      if (values.json) process.stdout.write(`${JSON.stringify(groups)}\n`);
      else printTable(groups.map((g) => ({ ...g, conditions: g.filter.conditions.length, match: g.filter.match })), ['name', 'devices', 'match', 'conditions', 'id']);
    } else if (action === 'members' && group) {
      const ids = await client.admin.fleet.groups.members.query({ org: values.org, group });
      process.stdout.write(values.json ? `${JSON.stringify(ids)}\n` : `${ids.join('\n')}${ids.length ? '\n' : ''}`);
    } else {
      throw new UsageError(usage);
    }
  },
};
