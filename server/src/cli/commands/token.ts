import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable, serverUrl } from '../client.ts';

const usage = `
Usage: ninjait token create --org ORG [--name NAME] [--expires-in-hours H] [--max-uses N]
       ninjait token list --org ORG
       ninjait token revoke --org ORG <token-id>

Enrollment tokens let agents join an organization. The token is shown once.
${CLIENT_USAGE}`;

export const tokenCommand: Command = {
  summary: 'create, list or revoke enrollment tokens',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' },
      'expires-in-hours': { type: 'string' }, 'max-uses': { type: 'string' },
    }, usage, true);
    const [action, id] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    if (action === 'create') {
      const hours = values['expires-in-hours'] ? Number(values['expires-in-hours']) : undefined;
      const { token, record } = await client.admin.tokens.create.mutate({
        org: values.org,
        name: values.name,
        expiresInSec: hours === undefined ? undefined : Math.round(hours * 3600),
        maxUses: values['max-uses'] ? Number(values['max-uses']) : undefined,
      });
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ token, ...record })}\n`);
        return;
      }
      process.stdout.write(`${token}\n`);
      process.stderr.write(
        `Token "${record.name}" (${record.id}): ${record.maxUses} use(s), expires ${record.expiresAt}. It is shown only now.\n` +
        `Enroll a device: ninjait-agent enroll --server ${serverUrl(values)} --token ${token}\n`,
      );
      return;
    }
    if (action === 'list') {
      const tokens = await client.admin.tokens.list.query({ org: values.org });
      if (values.json) process.stdout.write(`${JSON.stringify(tokens)}\n`);
      else printTable(tokens, ['id', 'name', 'uses', 'maxUses', 'expiresAt', 'revokedAt']);
      return;
    }
    if (action === 'revoke' && id) {
      const revoked = await client.admin.tokens.revoke.mutate({ org: values.org, id });
      process.stdout.write(`Revoked token "${revoked.name}" (${revoked.id})\n`);
      return;
    }
    throw new UsageError(usage);
  },
};
