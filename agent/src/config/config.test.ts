import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/temp.ts';
import { UsageError, parseEnv } from './env.ts';
import { readConfig, writeConfig, type AgentConfig } from './file.ts';
import { resolvePaths } from './paths.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('paths', () => {
  it('uses the platform defaults', () => {
    expect(resolvePaths({ platform: 'linux' })).toMatchObject({ configFile: '/etc/ninjait/agent.json', outboxFile: '/var/lib/ninjait/outbox.db' });
    expect(resolvePaths({ platform: 'darwin' }).configDir).toBe('/Library/Application Support/NinjaIT');
    expect(resolvePaths({ platform: 'win32', programData: 'D:\\PD' }).dataDir).toBe(join('D:\\PD', 'NinjaIT'));
  });
  it('keeps config and data together in an explicit data dir', () => {
    const p = resolvePaths({ dataDir: '/tmp/x', platform: 'linux' });
    expect(p.configDir).toBe('/tmp/x');
    expect(p.dataDir).toBe('/tmp/x');
  });
});

describe('config file', () => {
  const config: AgentConfig = {
    server: 'https://rmm.example.com',
    deviceId: '11111111-1111-4111-8111-111111111111',
    organizationId: '22222222-2222-4222-8222-222222222222',
    deviceSecret: 's'.repeat(32),
    intervalMs: 30_000,
    enrolledAt: 1,
  };
  it('round-trips with mode 0600, creating the folder', () => {
    const file = join(tmp.dir, 'nested', 'agent.json');
    expect(readConfig(file)).toBeNull();
    writeConfig(file, config);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readConfig(file)).toEqual(config);
  });
  it('explains a broken file', () => {
    const file = join(tmp.dir, 'agent.json');
    writeFileSync(file, '{nope');
    expect(() => readConfig(file)).toThrow(UsageError);
    writeFileSync(file, JSON.stringify({ ...config, deviceId: 'x' }));
    expect(() => readConfig(file)).toThrow(/deviceId/);
  });
});

describe('env', () => {
  it('names the bad variable', () => {
    expect(() => parseEnv({ AGENT_BUFFER_MAX_MB: 'lots' })).toThrow(/AGENT_BUFFER_MAX_MB/);
    expect(parseEnv({ NINJAIT_SERVER: 'http://h:3000', LOG_LEVEL: 'debug', UNRELATED: 'x' })).toEqual({ NINJAIT_SERVER: 'http://h:3000', LOG_LEVEL: 'debug' });
  });

  it('NINJAIT_ALLOW_REBOOT: 0/1/true/false, unset left to the default, anything else refused', () => {
    expect(parseEnv({ NINJAIT_ALLOW_REBOOT: '0' }).NINJAIT_ALLOW_REBOOT).toBe(false);
    expect(parseEnv({ NINJAIT_ALLOW_REBOOT: 'true' }).NINJAIT_ALLOW_REBOOT).toBe(true);
    expect(parseEnv({}).NINJAIT_ALLOW_REBOOT).toBeUndefined();
    expect(() => parseEnv({ NINJAIT_ALLOW_REBOOT: 'yes please' })).toThrow(/NINJAIT_ALLOW_REBOOT/);
  });
});
