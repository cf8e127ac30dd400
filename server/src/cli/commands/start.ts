import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseEnv } from '../../platform/config/index.ts';
import type { RunningServer } from '../../app/create-app.ts';
import { createOrganization, listOrganizations } from '../../features/organizations/organizations.ts';
import { countUsers, createUser } from '../../features/auth/users.ts';
import { createEnrollmentToken } from '../../features/enrollment/enrollment-tokens.ts';
import { parse, type Command } from '../args.ts';
import { startLocalPackages } from '../../features/updates/local-packages.ts';
import { startOnClaimedPort, stopOnSignals } from './serve.ts';

const usage = `
Usage: ninjait start [--no-agent] [--no-packages]

The quick start: runs the server (embedded stores in DATA_DIR unless DATABASE_URL /
REDIS_URL are set), creates a first organization and owner on the first run and prints
the login once, and runs a local agent enrolled into it, so this machine reports at once.
In the background it builds and publishes the agent packages this machine can (.deb, .rpm,
the bundle), signed with a key of its own in DATA_DIR, for the console's install lines.
Ctrl-C stops everything.

  --no-agent      do not run the local agent
  --no-packages   do not build agent packages`;

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

/**
 * The checkout's `ninjait-agent` bin: the built agent, run the way installed agents run. A
 * server-only install (the Docker image) has no agent package.
 */
function agentBin(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('@ninjait/agent/package.json');
  } catch {
    throw new Error('no agent is installed beside this server (a server-only install): start with --no-agent');
  }
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  return join(dirname(manifest), bin['ninjait-agent']!);
}

/**
 * The URL the local agent uses: the server's, with a wildcard listen address (HOST=0.0.0.0 or
 * ::, to be reached from other machines) replaced by loopback, which the agent trusts over http.
 */
function localUrl(server: RunningServer): string {
  const url = new URL(server.url);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  else if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.origin;
}

/**
 * `ninjait-agent enroll` against this server with a one-use token. The token travels in the
 * environment, where other accounts cannot read it (they can read a command line). Its report
 * ends by telling how to start the agent, which the quick start does itself: only the first
 * line is shown, and whether it waits for approval.
 */
async function enrollLocalAgent(server: RunningServer, agentDir: string): Promise<void> {
  const org = (await listOrganizations(server.services.db))[0]!;
  const { token } = await createEnrollmentToken(server.services.db, {
    organizationId: org.id, name: 'local agent (npm start)', expiresInSec: 600, maxUses: 1, createdBy: null,
  });
  const child = spawn(process.execPath, [agentBin(), 'enroll', '--data-dir', agentDir], {
    env: { ...process.env, NINJAIT_SERVER: localUrl(server), NINJAIT_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('exit', done);
  });
  if (code !== 0) throw new Error(`the local agent could not enroll (exit ${code}): ${stderr.trim() || stdout.trim()}`);
  const { deviceId } = JSON.parse(readFileSync(join(agentDir, 'agent.json'), 'utf8')) as { deviceId: string };
  process.stdout.write(`  Local agent enrolled as device ${deviceId}.\n`);
  if (stdout.includes('waiting for an admin to approve')) {
    process.stdout.write('  It waits for your approval in the console: this machine was enrolled before, with credentials it no longer has.\n');
  }
}

/**
 * Enrolls the local agent on first run, then keeps it running beside the server, each step a
 * process of the built agent: what runs here is what endpoints install, and the server never
 * loads agent code. A built agent starts in about 0.3 s (through tsx it took over a second), so
 * the second process costs the first sample little.
 */
async function startLocalAgent(server: RunningServer, dataDir: string): Promise<ChildProcess> {
  const agentDir = resolve(dataDir, 'agent');
  if (!existsSync(join(agentDir, 'agent.json'))) await enrollLocalAgent(server, agentDir);
  // A developer's machine is never restarted by a patch deployment sent to the quick start's agent.
  // The IPC channel is how the agent learns this process died (even by SIGKILL): it stops with us.
  return spawn(process.execPath, [agentBin(), 'run', '--data-dir', agentDir], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NINJAIT_ALLOW_REBOOT: '0', NINJAIT_PARENT_PID: String(process.pid) } });
}

export const startCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, { 'no-agent': { type: 'boolean' }, 'no-packages': { type: 'boolean' } }, usage);
    const env = parseEnv();
    const server = await startOnClaimedPort(env);
    await bootstrap(server);
    const agent = values['no-agent'] ? null : await startLocalAgent(server, env.DATA_DIR);
    // After the agent: its first sample matters more than packages nobody has asked for yet.
    const packages = values['no-packages'] ? null : startLocalPackages(env, server.services.log);
    stopOnSignals(async () => {
      await packages?.stop();
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
