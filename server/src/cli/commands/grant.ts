import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';
import { defaultOrg } from '../config.ts';

import type { GrantRole } from '../../features/providers/index.ts';

/** The server's GRANT_ROLES, kept here so the CLI does not load the server's routers to print usage. */
const GRANT_ROLES = ['viewer', 'technician', 'admin'] as const satisfies readonly GrantRole[];

const usage = `
Usage: ninjait grant add --client CLIENT --email EMAIL --role ROLE [--org PROVIDER]
       ninjait grant remove --client CLIENT --email EMAIL [--org PROVIDER]
       ninjait grant list [--client CLIENT] [--org PROVIDER]

Gives one of a provider's people a role in one of its client organizations (stronger than the one
their provider role gives there), changes it, or takes it back. Their sessions end at once, so the
change applies to every open one. Roles: ${GRANT_ROLES.join(', ')} (a provider never owns a client).
--org names the provider (id or name); left out, the organization chosen with \`ninjait org use\`.
${CLIENT_USAGE}`;

export const grantCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, client: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' },
    }, usage, true);
    const [action] = positionals;
    const org = await defaultOrg(values.org);
    if (!org) throw new UsageError(`--org is required (or choose one with ninjait org use).\n${usage}`);
    if (action === 'list') {
      const grants = await (await localAdminClient(values)).admin.providers.grants.list.query({ org, ...(values.client ? { client: values.client } : {}) });
      if (values.json) process.stdout.write(`${JSON.stringify(grants)}\n`);
      else printTable(grants, ['clientName', 'email', 'role', 'createdAt']);
      return;
    }
    if ((action !== 'add' && action !== 'remove') || !values.client || !values.email) throw new UsageError(usage);
    const client = await localAdminClient(values);
    if (action === 'add') {
      if (!GRANT_ROLES.includes(values.role as GrantRole)) throw new UsageError(`--role must be one of ${GRANT_ROLES.join(', ')}`);
      const granted = await client.admin.providers.grants.set.mutate({ org, client: values.client, email: values.email, role: values.role as GrantRole });
      if (values.json) process.stdout.write(`${JSON.stringify(granted)}\n`);
      else process.stdout.write(`${granted.email} is ${granted.role} in ${granted.clientName}${granted.from ? ` (was ${granted.from})` : ''}\n`);
      return;
    }
    const revoked = await client.admin.providers.grants.revoke.mutate({ org, client: values.client, email: values.email });
    if (values.json) process.stdout.write(`${JSON.stringify(revoked)}\n`);
    else process.stdout.write(`Took back ${revoked.email}'s ${revoked.role} role in the client; their sessions ended\n`);
  },
};
