import { describe, expect, it } from 'vitest';
import { createPasswordGate } from './password-gate.ts';

/** A check that stays running until the test lets it finish. */
function heldCheck(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { finish, check: async () => { log.push(`start ${name}`); await done; return name; } };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('password gate', () => {
  it('runs at most `concurrency` checks at once, the next as soon as one ends', async () => {
    const gate = createPasswordGate({ concurrency: 2, maxPending: 10, maxPendingPerKey: 10 });
    const log: string[] = [];
    const checks = ['a', 'b', 'c'].map((name) => heldCheck(log, name));
    const results = checks.map((held, i) => gate.run(`k${i}`, held.check));
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    checks[0]!.finish();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    checks[1]!.finish();
    checks[2]!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(gate.pending).toBe(0);
  });

  it('takes waiting keys in turn, so a key with a long queue delays another by one turn', async () => {
    const gate = createPasswordGate({ concurrency: 1, maxPending: 20, maxPendingPerKey: 10 });
    const log: string[] = [];
    const flood = Array.from({ length: 6 }, (_, i) => heldCheck(log, `flood${i}`));
    const running = flood.map((held) => gate.run('attacker', held.check));
    const user = heldCheck(log, 'user');
    const mine = gate.run('user', user.check);
    await tick();
    flood[0]!.finish();
    await tick();
    flood[1]!.finish();
    await tick();
    // One attacker check (its turn came before the user's arrived), then the user's, ahead of the four others waiting.
    expect(log).toEqual(['start flood0', 'start flood1', 'start user']);
    user.finish();
    await mine;
    flood.forEach((held) => held.finish());
    await Promise.all(running);
  });

  it('refuses at once past the per-key and the total caps, and frees places when checks end', async () => {
    const gate = createPasswordGate({ concurrency: 1, maxPending: 3, maxPendingPerKey: 2 });
    const log: string[] = [];
    const held = [heldCheck(log, 'a1'), heldCheck(log, 'a2'), heldCheck(log, 'b1')];
    const first = [gate.run('a', held[0]!.check), gate.run('a', held[1]!.check)];
    await expect(gate.run('a', async () => 'a3')).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    const third = gate.run('b', held[2]!.check);
    await expect(gate.run('c', async () => 'c1')).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/busy/) });
    held.forEach((h) => h.finish());
    await Promise.all([...first, third]);
    expect(await gate.run('a', async () => 'again')).toBe('again');
  });

  it('frees the place of a check that throws', async () => {
    const gate = createPasswordGate({ concurrency: 1, maxPending: 1, maxPendingPerKey: 1 });
    await expect(gate.run('a', async () => { throw new Error('scrypt failed'); })).rejects.toThrow('scrypt failed');
    expect(gate.pending).toBe(0);
    expect(await gate.run('a', async () => 'ok')).toBe('ok');
  });
});
