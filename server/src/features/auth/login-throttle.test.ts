import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../stores/cache/index.ts';
import {
  ACCOUNT_FREE, ACCOUNT_MAX_DELAY_MS, ADDRESS_FREE, createLoginThrottle, LOGIN_WINDOW_SEC, MAX_WAIT_MS, PAIR_FREE, waitAfter,
} from './login-throttle.ts';

/** The throttle on the real in-process cache, both on one clock the test moves. */
function setup() {
  let now = 1_750_000_000_000;
  const clock = () => now;
  const throttle = createLoginThrottle(createMemoryCache(clock), clock);
  return { throttle, advance: (ms: number) => (now += ms) };
}

const failTimes = async (throttle: ReturnType<typeof setup>['throttle'], n: number, address: string, email: (i: number) => string) => {
  for (let i = 0; i < n; i++) await throttle.failed(address, email(i));
};

describe('login throttle', () => {
  it('waits 1 s, then twice as long after each further failure, up to a cap', () => {
    expect([0, 5, 6, 7, 8, 9].map((n) => waitAfter(n, PAIR_FREE))).toEqual([0, 0, 1_000, 2_000, 4_000, 8_000]);
    expect(waitAfter(1_000, PAIR_FREE)).toBe(MAX_WAIT_MS);
    expect(waitAfter(ACCOUNT_FREE + 10, ACCOUNT_FREE, ACCOUNT_MAX_DELAY_MS)).toBe(ACCOUNT_MAX_DELAY_MS);
  });

  it('lets an address and account pair fail freely a few times, then makes it wait longer and longer', async () => {
    const { throttle, advance } = setup();
    await failTimes(throttle, PAIR_FREE, '203.0.113.1', () => 'owner@example.test');
    expect(await throttle.check('203.0.113.1', 'owner@example.test')).toEqual({ allowed: true, delayMs: 0 });
    await throttle.failed('203.0.113.1', 'owner@example.test');
    expect(await throttle.check('203.0.113.1', 'owner@example.test')).toEqual({ allowed: false, retryInSec: 1 });
    // Emails are compared as a person types them: case and spaces do not make a new account.
    expect(await throttle.check('203.0.113.1', ' OWNER@example.test')).toEqual({ allowed: false, retryInSec: 1 });
    advance(1_000);
    expect(await throttle.check('203.0.113.1', 'owner@example.test')).toMatchObject({ allowed: true });
    await throttle.failed('203.0.113.1', 'owner@example.test');
    expect(await throttle.check('203.0.113.1', 'owner@example.test')).toEqual({ allowed: false, retryInSec: 2 });
    // Another address is not held back for this pair.
    expect(await throttle.check('198.51.100.7', 'owner@example.test')).toEqual({ allowed: true, delayMs: 0 });
  });

  it('clears the pair and the account on success, but not the address', async () => {
    const { throttle } = setup();
    await failTimes(throttle, ADDRESS_FREE + 1, '203.0.113.2', (i) => (i < PAIR_FREE + 1 ? 'owner@example.test' : `other${i}@example.test`));
    expect(await throttle.check('203.0.113.2', 'owner@example.test')).toMatchObject({ allowed: false });
    await throttle.succeeded('203.0.113.2', 'owner@example.test');
    // Still refused: the address failed across accounts, and holding one account must not reset that.
    expect(await throttle.check('203.0.113.2', 'owner@example.test')).toMatchObject({ allowed: false });
    expect(await throttle.check('203.0.113.2', 'anyone@example.test')).toMatchObject({ allowed: false });
    // The owner's account itself carries nothing: from elsewhere there is no delay.
    expect(await throttle.check('198.51.100.8', 'owner@example.test')).toEqual({ allowed: true, delayMs: 0 });
  });

  it('slows every try at an account guessed from many addresses, boundedly, without refusing', async () => {
    const { throttle } = setup();
    for (let i = 0; i < ACCOUNT_FREE + 3; i++) await throttle.failed(`203.0.113.${10 + i}`, 'target@example.test');
    expect(await throttle.check('198.51.100.9', 'target@example.test')).toEqual({ allowed: true, delayMs: 4_000 });
    for (let i = 0; i < 20; i++) await throttle.failed(`203.0.114.${i}`, 'target@example.test');
    expect(await throttle.check('198.51.100.9', 'target@example.test')).toEqual({ allowed: true, delayMs: ACCOUNT_MAX_DELAY_MS });
    await throttle.succeeded('198.51.100.9', 'target@example.test');
    expect(await throttle.check('198.51.100.9', 'target@example.test')).toEqual({ allowed: true, delayMs: 0 });
  });

  it('forgets failures once the window that began with the first one has passed', async () => {
    const { throttle, advance } = setup();
    await failTimes(throttle, ADDRESS_FREE + 5, '203.0.113.3', (i) => `user${i % 2}@example.test`);
    expect(await throttle.check('203.0.113.3', 'user0@example.test')).toMatchObject({ allowed: false });
    advance(LOGIN_WINDOW_SEC * 1_000 + 1);
    expect(await throttle.check('203.0.113.3', 'user0@example.test')).toEqual({ allowed: true, delayMs: 0 });
    // The count starts over: the free failures are free again.
    await failTimes(throttle, PAIR_FREE, '203.0.113.3', () => 'user0@example.test');
    expect(await throttle.check('203.0.113.3', 'user0@example.test')).toEqual({ allowed: true, delayMs: 0 });
  });

  it('treats an email no account has exactly like a real one (it cannot tell them apart)', async () => {
    const { throttle } = setup();
    for (const email of ['real@example.test', 'ghost@example.test']) {
      await failTimes(throttle, PAIR_FREE + 2, `203.0.113.${email.length}`, () => email);
    }
    expect(await throttle.check('203.0.113.17', 'real@example.test')).toEqual(await throttle.check('203.0.113.18', 'ghost@example.test'));
  });
});
