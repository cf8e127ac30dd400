import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeInventory, fakeSampleRecord, startHarness, type Harness } from '@ninjait/server/testing';
import { SERVER_CLI, startCli } from '../support/processes.ts';

/** Runs the built `ninjait` CLI against the harness's server; returns its exit code and output. */
async function ninjait(h: Harness, args: string[]) {
  const proc = startCli(SERVER_CLI, [...args, ...(args.includes('--help') ? [] : ['--server', h.server.url, '--data-dir', h.dataDir])]);
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), output: proc.output() };
}

describe('ninjait channel | rule | alerts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ relational: 'pglite', cache: 'memory', env: { WEBHOOK_ALLOW_PRIVATE: '1' } });
    await h.admin.admin.organizations.create.mutate({ name: 'Cli Alerts' });
  }, 300_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('explains every command with --help', async () => {
    for (const command of ['channel', 'rule', 'alerts']) {
      const result = await ninjait(h, [command, '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout).toContain(`Usage: ninjait ${command}`);
    }
    // The script-check syntax is explained where rules are.
    expect((await ninjait(h, ['rule', '--help'])).stdout).toMatch(/'script NAME exit != 0'[\s\S]*--every 5m/);
  }, 300_000);

  it('creates a script-check rule from a saved script by name, and refuses a catastrophic pattern clearly', async () => {
    const script = await ninjait(h, ['script', 'create', '--org', 'Cli Alerts', '--name', 'Backup age', '--language', 'shell', '--os', 'linux', '--body', 'echo FRESH']);
    expect(script.code, script.output).toBe(0);
    const rule = await ninjait(h, ['rule', 'create', '--org', 'Cli Alerts', '--name', 'backups', '--when', `script "Backup age" exit != 0 or output ~ /STALE/`, '--every', '10m']);
    expect(rule.code, rule.output).toBe(0);
    expect(rule.stdout).toContain('script check fails (exit != 0 or output ~ /STALE/), every 10m');
    const listed = JSON.parse((await ninjait(h, ['rule', 'list', '--org', 'Cli Alerts', '--json'])).stdout) as { name: string; condition: { everySec?: number } }[];
    expect(listed.find((r) => r.name === 'backups')?.condition.everySec).toBe(600);
    const catastrophic = await ninjait(h, ['rule', 'create', '--org', 'Cli Alerts', '--name', 'slow', '--when', 'script "Backup age" output ~ /(a+)+$/']);
    expect(catastrophic.code).toBe(1);
    expect(catastrophic.output).toContain('exponential time');
    const missing = await ninjait(h, ['rule', 'create', '--org', 'Cli Alerts', '--name', 'ghost', '--when', 'script ghost exit != 0']);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('Script "ghost"');
    const every = await ninjait(h, ['rule', 'create', '--org', 'Cli Alerts', '--name', 'fast', '--when', 'script "Backup age" exit != 0', '--every', 'soon']);
    expect(every.code).toBe(2);
    expect(every.output).toContain('--every');
  }, 300_000);

  it('creates a channel and a rule, lists the alert it opens, and refuses bad conditions clearly', async () => {
    const channel = await ninjait(h, ['channel', 'create', '--org', 'Cli Alerts', '--name', 'hook', '--type', 'webhook', '--url', `${h.server.url}/hook`]);
    expect(channel.stdout).toMatch(/Created webhook channel "hook"[\s\S]*Signing secret \(shown only now\): whsec_/);
    const rule = await ninjait(h, ['rule', 'create', '--org', 'Cli Alerts', '--name', 'busy', '--when', 'cpu > 90', '--for', '5m', '--clear-below', '80', '--channel', 'hook']);
    expect(rule.stdout).toContain('cpu > 90% for 5m (clears below 80%)');
    const bad = await ninjait(h, ['rule', 'create', '--org', 'Cli Alerts', '--name', 'temp', '--when', 'temperature > 80']);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('Unknown metric "temperature"');
    const negative = await ninjait(h, ['rule', 'create', '--org', 'Cli Alerts', '--name', 'neg', '--when', 'offline > 5m', '--for', '-5m']);
    expect(negative.code).toBe(2);
    expect(negative.output).toContain('--for');

    expect((await ninjait(h, ['rule', 'update', '--org', 'Cli Alerts', 'busy', '--when', 'cpu >= 0'])).code).toBe(0);
    const { token } = await h.admin.admin.tokens.create.mutate({ org: 'Cli Alerts' });
    const device = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory('cli-alerts') });
    await h.ws({ deviceId: device.deviceId, deviceSecret: device.deviceSecret }).agent.push.mutate({ records: [fakeSampleRecord(1)] });
    await h.server.drained();
    const listed = await ninjait(h, ['alerts', '--org', 'Cli Alerts', '--state', 'open', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ deviceId: device.deviceId, ruleName: 'busy' })]);
    const table = await ninjait(h, ['alerts', '--org', 'Cli Alerts']);
    expect(table.stdout).toMatch(/STATE\s+SEVERITY[\s\S]*open\s+warning/);
  }, 300_000);
});
