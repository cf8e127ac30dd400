import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@ninjait/shared';
import { SERVER_CLI, freePort, runCli, startCli, waitFor, waitForHttp, type Proc } from '../support/processes.ts';
import { buildPreviousAgent, PREVIOUS_AGENT_COMMIT } from '../support/previous-agent.ts';

/**
 * An agent is updated on its own schedule, after the server: the previous release's agent
 * bundle, built from its commit, must enroll with today's server and have its samples stored.
 */
describe(`the previous agent release (${PREVIOUS_AGENT_COMMIT.slice(0, 7)}) against today's server`, () => {
  let dir: string;
  let previousAgent: string;
  let server: Proc | undefined;
  let agent: Proc | undefined;
  let serverUrl: string;
  const flags = () => ['--server', serverUrl, '--data-dir', join(dir, 'server')];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-previous-agent-'));
    previousAgent = buildPreviousAgent(join(dir, 'previous'));
    const port = String(await freePort());
    serverUrl = `http://127.0.0.1:${port}`;
    // Embedded stores: what is under test is the protocol, not an engine.
    server = startCli(SERVER_CLI, ['serve'], { PORT: port, DATA_DIR: join(dir, 'server'), AGENT_INTERVAL_MS: '1000', LOG_LEVEL: 'warn' });
    await waitForHttp(`${serverUrl}/readyz`).catch((error: Error) => {
      throw new Error(`${error.message}\n${server?.output()}`);
    });
  }, 300_000);
  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await server?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('is really the previous protocol: the bundle never sends a protocol version', () => {
    // (ws has a `protocolVersion` of its own: the constant's name is ours alone.)
    expect(readFileSync(previousAgent, 'utf8')).not.toContain('PROTOCOL_VERSION');
  });

  it('enrolls, and its samples reach the server and are stored', async () => {
    await runCli(SERVER_CLI, ['org', 'create', 'Compat', ...flags()]);
    const token = (await runCli(SERVER_CLI, ['token', 'create', '--org', 'Compat', ...flags()])).trim();
    const agentDir = join(dir, 'agent');
    await runCli(previousAgent, ['enroll', '--server', serverUrl, '--token', token, '--data-dir', agentDir]);
    agent = startCli(previousAgent, ['run', '--data-dir', agentDir, '--interval-ms', '1000']);
    const device = await waitFor('the previous agent\'s samples', async () => {
      const devices = JSON.parse(await runCli(SERVER_CLI, ['devices', '--org', 'Compat', '--json', ...flags()])) as {
        status: string; latest: { seq: number; memory: { totalBytes: number } } | null;
      }[];
      return devices[0]?.status === 'online' && devices[0].latest && devices[0].latest.seq >= 2 ? devices[0] : null;
    }, 150_000).catch((error: Error) => {
      throw new Error(`${error.message}\nagent:\n${agent?.output()}\nserver:\n${server?.output()}`);
    });
    expect(device.status).toBe('online');
    expect(device.latest!.memory.totalBytes).toBeGreaterThan(0);
  }, 210_000);

  it('refuses, in words, an agent that speaks a protocol newer than the server', async () => {
    const response = await fetch(`${serverUrl}/trpc/agent.enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'nit_'.padEnd(40, 'x'), inventory: inventory(), protocolVersion: PROTOCOL_VERSION + 1 }),
    });
    expect(response.status).toBe(412);
    const body = await response.json() as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe('PRECONDITION_FAILED');
    expect(body.error.message).toMatch(/newer than the server.*update the server/);
  });
});

function inventory() {
  return {
    hostname: 'future', os: { platform: 'linux', distro: '', release: '', kernel: '', arch: 'x64' },
    hardware: { manufacturer: '', model: '', serial: '', uuid: '' }, machineKey: 'future-machine',
    cpu: { brand: '', cores: 1, physicalCores: 1, speedGHz: 1 }, memoryBytes: 1, disks: [], interfaces: [], agentVersion: '9.0.0',
  };
}
