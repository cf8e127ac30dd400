import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseEnv } from '../../config/index.ts';
import { startServer, type RunningServer } from '../../app/create-app.ts';
import { createOrganization, listOrganizations } from '../../domain/organizations.ts';
import { countUsers, createUser } from '../../domain/users.ts';
import { createEnrollmentToken } from '../../domain/enrollment-tokens.ts';
import { parse, type Command } from '../args.ts';
import { createStaticRoutes } from '../../http/static.ts';
import { stopOnSignals } from './serve.ts';

const usage = `
Usage: ninjait start [--no-agent]

The quick start: runs the server (embedded stores in DATA_DIR unless DATABASE_URL /
REDIS_URL are set), creates a first organization and owner on the first run and prints
the login once, and runs a local agent enrolled into it, so this machine reports at once.
Ctrl-C stops both.

  --no-agent   do not run the local agent`;

const OWNER_EMAIL = 'owner@ninjait.local';

/** First run only: an organization and an owner, with a random password shown once. */
async function bootstrap(server: RunningServer): Promise<void> {
  const { db } = server.services;
  if ((await countUsers(db)) > 0) return;
  const org = (await listOrganizations(db))[0] ?? (await createOrganization(db, `${hostname()} organization`));
  const password = randomBytes(12).toString('base64url');
  await createUser(db, { email: OWNER_EMAIL, password, role: 'owner', organizationId: org.id, name: 'Owner' });
  process.stdout.write(
    `\n  First run: created organization "${org.name}" and its owner.\n` +
    `  Log in at ${server.url} as ${OWNER_EMAIL} with password: ${password}\n` +
    `  (shown only this once; create more people with \`ninjait user create\`)\n\n`,
  );
}

function agentCli(): string {
  const require = createRequire(import.meta.url);
  // The package entry is agent/src/index.ts; its CLI sits beside it.
  return join(dirname(require.resolve('@ninjait/agent')), 'cli', 'main.ts');
}

function runAgent(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', agentCli(), ...args], { stdio: 'inherit', env: process.env });
}

/**
 * Enrolls the local agent on first run, then keeps it running beside the server. The
 * enrollment runs in this process (the agent's own code, over HTTP to this server): a second
 * agent process would cost the quick start another runtime start-up.
 */
async function startLocalAgent(server: RunningServer, dataDir: string): Promise<ChildProcess> {
  const agentDir = resolve(dataDir, 'agent');
  if (!existsSync(join(agentDir, 'agent.json'))) {
    const org = (await listOrganizations(server.services.db))[0]!;
    const { token } = await createEnrollmentToken(server.services.db, {
      organizationId: org.id, name: 'local agent (npm start)', expiresInSec: 600, maxUses: 1, createdBy: null,
    });
    const agent = await import('@ninjait/agent');
    const log = agent.createLogger(process.env.LOG_LEVEL === 'debug' ? 'debug' : 'warn', 2);
    try {
      const { config } = await agent.enrollAgent({ server: server.url, token, paths: agent.resolvePaths({ dataDir: agentDir }), log });
      process.stdout.write(`  Local agent enrolled as device ${config.deviceId}.\n`);
    } catch (error) {
      throw new Error(`the local agent could not enroll: ${(error as Error).message}`);
    }
  }
  return runAgent(['run', '--data-dir', agentDir]);
}

export const startCommand: Command = {
  summary: 'quick start: server on embedded stores plus a local agent',
  usage,
  async run(argv) {
    const { values } = parse(argv, { 'no-agent': { type: 'boolean' } }, usage);
    const env = parseEnv();
    const server = await startServer(env, { routes: createStaticRoutes() });
    await bootstrap(server);
    const agent = values['no-agent'] ? null : await startLocalAgent(server, env.DATA_DIR);
    stopOnSignals(async () => {
      if (agent && agent.exitCode === null) {
        agent.kill('SIGTERM');
        await new Promise((done) => agent.once('exit', done));
      }
      await server.close();
    });
    process.stdout.write(`  NinjaIT is running at ${server.url}. Press Ctrl-C to stop.\n`);
    await new Promise(() => undefined);
  },
};
