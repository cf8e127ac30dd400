import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { classify } from '../link/classify.ts';
import { callSignal } from './call-signal.ts';

describe('callSignal', () => {
  it('aborts with the parent, passing its reason on', () => {
    const parent = new AbortController();
    const call = callSignal(parent.signal, 60_000);
    parent.abort('stopping');
    expect(call.signal.aborted).toBe(true);
    expect(call.signal.reason).toBe('stopping');
    call.done();
  });

  it('is born aborted under an aborted parent', () => {
    const call = callSignal(AbortSignal.abort('gone'), 60_000);
    expect(call.signal.reason).toBe('gone');
    call.done();
  });

  it('times out with the TimeoutError the link classifies as TIMEOUT', async () => {
    const call = callSignal(new AbortController().signal, 10);
    await new Promise((resolve) => call.signal.addEventListener('abort', resolve, { once: true }));
    expect(classify(new Error('aborted'), call.signal).code).toBe('TIMEOUT');
    call.done();
  });

  it('leaves nothing on the long-lived parent once done, and done stops the deadline', async () => {
    const parent = new AbortController().signal;
    const calls = Array.from({ length: 1_000 }, () => callSignal(parent, 20));
    expect(getEventListeners(parent, 'abort')).toHaveLength(1_000);
    for (const call of calls) call.done();
    expect(getEventListeners(parent, 'abort')).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls.some((call) => call.signal.aborted)).toBe(false);
  });
});
