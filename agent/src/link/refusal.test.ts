import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent } from '../agent.ts';
import { runCli } from '../cli/cli.ts';
import { EXIT } from '../cli/io.ts';
import { writeConfig } from '../config/file.ts';
import { resolvePaths } from '../config/paths.ts';
import { FAKE_DEVICE, startFakeServer } from '../testing/fake-server.ts';
import { fakeInventory, fakeSample } from '../testing/fixtures.ts';
import { memoryLogger } from '../testing/log.ts';
import { tempDir } from '../testing/temp.ts';
import type { Clock } from '../util/clock.ts';
import { CredentialRefusal, readLinkState } from './refusal.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const dir = () => {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
};
const manualClock = (): Clock & { advance(ms: number): void } => {
  let now = 1_000_000;
  return { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, advance: (ms) => void (now += ms) };
};
const refusalLines = (lines: Array<Record<string, unknown>>) => lines.filter((l) => String(l.msg).includes('refuses this device'));

describe('CredentialRefusal', () => {
  it('says it once per backoff step, doubling to the cap, and clears when the server accepts again', () => {
    const clock = manualClock();
    const { log, lines } = memoryLogger();
    const stateFile = join(dir(), 'link-state.json');
    const refusal = new CredentialRefusal({ log, clock, stateFile, baseMs: 1_000, maxMs: 4_000 });
    const waits: number[] = [];
    // Three callers (socket, heartbeat, subscription) report each step; one line per step.
    for (let step = 0; step < 5; step++) {
      for (let caller = 0; caller < 3; caller++) waits.push(refusal.refused('UNAUTHORIZED: bad device credentials'));
      clock.advance(waits.at(-3)!);
    }
    expect(refusalLines(lines).map((l) => l.retryInMs)).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
    expect(waits.filter((_, i) => i % 3 === 0)).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
    for (const line of refusalLines(lines)) {
      expect(line.level).toBe(50);
      expect(String(line.msg)).toContain('ninjait-agent enroll --server URL --token TOKEN');
      expect(JSON.stringify(line)).not.toMatch(/stack|\n\s+at /);
    }
    expect(readLinkState(stateFile)?.credentialsRefused).toMatchObject({ reason: 'UNAUTHORIZED: bad device credentials', retryInMs: 4_000 });
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);

    refusal.accepted();
    expect(refusal.active).toBe(false);
    expect(existsSync(stateFile)).toBe(false);
    expect(lines.at(-1)?.msg).toContain('accepts this device\'s credentials again');
    refusal.refused('again');
    expect(refusalLines(lines).at(-1)?.retryInMs).toBe(1_000);
  });
});

describe('a device whose credentials the server refuses', () => {
  async function runRefused(serverOptions: Parameters<typeof startFakeServer>[0]) {
    const server = await startFakeServer({ intervalMs: 1_000, ...serverOptions });
    cleanups.push(() => server.close());
    const paths = resolvePaths({ dataDir: dir() });
    const config = { server: server.url, ...FAKE_DEVICE, deviceSecret: 'wrong-wrong-wrong-wrong', intervalMs: 1_000, enrolledAt: Date.now() };
    writeConfig(paths.configFile, config);
    const { log, lines } = memoryLogger('info');
    const agent = runAgent({
      config, outboxFile: paths.outboxFile, log, linkStateFile: paths.linkStateFile, refusalBackoff: { baseMs: 100, maxMs: 800 },
      sample: async () => fakeSample(), inventory: async () => fakeInventory(),
    });
    cleanups.push(() => agent.stop());
    await new Promise((r) => setTimeout(r, 2_500));
    return { lines, paths };
  }

  it.each([
    ['per call (UNAUTHORIZED answers)', {}],
    ['at connection (an id:null error, then close)', { rejectInContext: true }],
    ['at the upgrade (HTTP 401)', { rejectUpgradeStatus: 401 }],
  ])('is told once per backoff step, one line without a stack, and status says it: refused %s', async (_how, options) => {
    const { lines, paths } = await runRefused(options);
    const told = refusalLines(lines);
    // Steps of 100, 200, 400, 800, 800 ms: at most 6 in 2.5 s, however many calls failed.
    expect(told.length).toBeGreaterThanOrEqual(1);
    expect(told.length).toBeLessThanOrEqual(6);
    for (const line of lines.filter((l) => Number(l.level) >= 40)) expect(JSON.stringify(line)).not.toMatch(/"stack"|\\n\s+at /);

    let out = '';
    const code = await runCli(['status', '--data-dir', paths.dataDir], { stdout: (t) => void (out += t), stderr: () => undefined, env: { LOG_LEVEL: 'silent' }, signal: new AbortController().signal });
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/Connection: +REFUSED: the server refuses this device's credentials since/);
    expect(out).toContain('enroll again with a new token');
  });
});
