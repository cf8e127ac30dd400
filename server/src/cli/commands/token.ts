import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable, serverUrl } from '../client.ts';
import { installOfferText } from '../../features/updates/offer-text.ts';

const usage = `
Usage: ninjait token create --org ORG [--name NAME] [--expires-in-hours H] [--max-uses N] [--public-url URL]
       ninjait token list --org ORG
       ninjait token revoke --org ORG <token-id>

Enrollment tokens let agents join an organization. The token is shown once, on standard
output; the install lines for it (those whose package this server has) follow on standard error.
  --public-url URL  the address devices reach the server at (default: PUBLIC_URL, else --server)
${CLIENT_USAGE}`;

const DEFAULT_TOKEN_HOURS = 7 * 24;

export const tokenCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' },
      'expires-in-hours': { type: 'string' }, 'max-uses': { type: 'string' }, 'public-url': { type: 'string' },
    }, usage, true);
    const [action, id] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    if (action === 'create') {
      const hours = values['expires-in-hours'] ? Number(values['expires-in-hours']) : DEFAULT_TOKEN_HOURS;
      // Made as an install link: the same token, and the lines this server can serve for it.
      const link = await client.updates.adminInstallLinks.mutate({
        org: values.org,
        name: values.name ?? 'Enrollment token',
        expiresInSec: Math.round(hours * 3600),
        maxUses: values['max-uses'] ? Number(values['max-uses']) : 1,
        serverUrl: values['public-url'] ?? serverUrl(values),
      });
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ token: link.token, id: link.tokenId, name: link.name, maxUses: link.maxUses, expiresAt: link.expiresAt, install: link.options })}\n`);
        return;
      }
      process.stdout.write(`${link.token}\n`);
      process.stderr.write(
        `Token "${link.name}" (${link.tokenId}): ${link.maxUses} use(s), expires ${new Date(link.expiresAt).toISOString()}. It is shown only now.\n\n` +
        installOfferText(link),
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
