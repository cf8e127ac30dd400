import { ROLES, roleSchema } from '@ninjait/shared';
import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient } from '../client.ts';

const usage = `
Usage: ninjait user create --org ORG --email EMAIL --role ROLE [--name NAME]

Creates a person who can log in. The password is read from $NINJAIT_PASSWORD, or from
the first line of standard input, so it never appears in the process list.
Roles: ${ROLES.join(', ')}.
${CLIENT_USAGE}`;

async function readPassword(): Promise<string> {
  if (process.env.NINJAIT_PASSWORD) return process.env.NINJAIT_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

export const userCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' },
    }, usage, true);
    if (positionals[0] !== 'create' || !values.org || !values.email || !values.role) throw new UsageError(usage);
    const role = roleSchema.safeParse(values.role);
    if (!role.success) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const client = await localAdminClient(values);
    const user = await client.admin.users.create.mutate({
      org: values.org, email: values.email, role: role.data, name: values.name, password: await readPassword(),
    });
    if (values.json) process.stdout.write(`${JSON.stringify(user)}\n`);
    else process.stdout.write(`Created ${user.role} ${user.email} (${user.id})\n`);
  },
};
