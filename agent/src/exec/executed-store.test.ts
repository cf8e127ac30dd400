import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openExecutedStore } from './executed-store.ts';

let dir: string | null = null;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('executed command store', () => {
  it('records an id once, keeps the result across reopening', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-executed-'));
    const file = join(dir, 'commands.db');
    const store = openExecutedStore(file);
    expect(store.begin('a')).toBe(true);
    expect(store.begin('a')).toBe(false);
    expect(store.get('a')).toEqual({ state: 'running' });
    store.finish('a', { status: 'failed', exitCode: 2, error: null });
    store.close();
    const reopened = openExecutedStore(file);
    expect(reopened.get('a')).toEqual({ state: 'finished', status: 'failed', exitCode: 2, error: null });
    expect(reopened.begin('a')).toBe(false);
    expect(reopened.get('b')).toBeNull();
    // A cancel for an id never seen is recorded as finished, so a late delivery does not run it.
    reopened.finish('b', { status: 'cancelled', exitCode: null, error: 'Cancelled before it started' });
    expect(reopened.begin('b')).toBe(false);
    reopened.close();
  });
});
