import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, serverUrl } from '../client.ts';
import { installOfferText } from '../../features/updates/offer-text.ts';

const usage = `
Usage: ninjait installer --org ORG [--expires-in-hours H] [--max-uses N] [--public-url URL]

Creates a short-lived enrollment token (1 hour, one use by default) and prints the lines
that install and enroll the agent: for each OS whose package this server has, and for the
others the commands that publish one. Run a line as root / admin on the machine to enroll.
The token is in the line: treat it as a secret.
  --public-url URL  the address devices reach the server at (default: PUBLIC_URL, else --server)
${CLIENT_USAGE}`;

/** `ninjait installer`: the install line for each OS, with a fresh token filled in. */
export const installerCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, 'expires-in-hours': { type: 'string' },
      'max-uses': { type: 'string' }, 'public-url': { type: 'string' },
    }, usage);
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const hours = values['expires-in-hours'] === undefined ? 1 : Number(values['expires-in-hours']);
    const maxUses = values['max-uses'] === undefined ? 1 : Number(values['max-uses']);
    if (!(hours > 0) || !Number.isInteger(maxUses) || maxUses < 1) throw new UsageError(`--expires-in-hours must be > 0 and --max-uses an integer >= 1.\n${usage}`);
    const client = await localAdminClient(values);
    const link = await client.updates.adminInstallLinks.mutate({
      org: values.org, expiresInSec: Math.round(hours * 3600), maxUses, serverUrl: values['public-url'] ?? serverUrl(values),
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(link)}\n`);
      return;
    }
    process.stdout.write(installOfferText(link));
    process.stderr.write(`\nToken ${link.tokenId}: ${link.maxUses} use(s), expires ${new Date(link.expiresAt).toISOString()}. Revoke with: ninjait token revoke --org ${values.org} ${link.tokenId}\n`);
  },
};
