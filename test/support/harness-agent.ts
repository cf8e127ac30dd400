import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Harness } from '@ninjait/server/testing';
import { AGENT_CLI, runCli, startCli, waitFor, type Proc } from './processes.ts';

/**
 * This machine's real agent (the built `ninjait-agent`, data in `dataDir`) enrolled in a new
 * organization `org` of a harness's server, running, and answering the local admin: what the
 * CLI's end-to-end tests (`ninjait cp`, `ninjait shell`) drive.
 */
export async function startHarnessAgent(h: Harness, org: string, dataDir: string): Promise<{ deviceId: string; agent: Proc }> {
  await h.admin.admin.organizations.create.mutate({ name: org });
  const { token } = await h.admin.admin.tokens.create.mutate({ org });
  await runCli(AGENT_CLI, ['enroll', '--server', h.server.url, '--token', token, '--data-dir', dataDir]);
  const { deviceId } = JSON.parse(await readFile(join(dataDir, 'agent.json'), 'utf8')) as { deviceId: string };
  const agent = startCli(AGENT_CLI, ['run', '--data-dir', dataDir, '--interval-ms', '1000']);
  try {
    await waitFor('the agent to answer', async () => {
      if (agent.child.exitCode !== null) throw new Error(`agent exited:\n${agent.output()}`);
      return h.admin.remote.local.mutate({ device: deviceId, op: { kind: 'proc.list' } });
    }, 60_000, 500);
  } catch (error) {
    await agent.kill('SIGKILL');
    throw error;
  }
  return { deviceId, agent };
}
