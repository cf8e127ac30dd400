import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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

  it('keeps the output a result carries, to report it again; a store from before gains the column', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-executed-'));
    const file = join(dir, 'commands.db');
    // The table as agents before results carried output created it, with a result recorded.
    const old = new Database(file);
    old.exec(`CREATE TABLE executed_commands (id TEXT PRIMARY KEY, state TEXT NOT NULL CHECK (state IN ('running', 'finished')),
      status TEXT, exit_code INTEGER, error TEXT, received_at INTEGER NOT NULL, finished_at INTEGER);
      INSERT INTO executed_commands VALUES ('before', 'finished', 'succeeded', 0, NULL, ${Date.now()}, ${Date.now()});`);
    old.close();
    const store = openExecutedStore(file);
    expect(store.get('before')).toEqual({ state: 'finished', status: 'succeeded', exitCode: 0, error: null });
    const output = [{ seq: 0, stream: 'stdout' as const, data: 'hi\n' }];
    store.begin('quick');
    store.finish('quick', { status: 'succeeded', exitCode: 0, error: null, output });
    store.finish('empty', { status: 'failed', exitCode: 1, error: null, output: [] });
    store.close();
    const reopened = openExecutedStore(file);
    expect(reopened.get('quick')).toEqual({ state: 'finished', status: 'succeeded', exitCode: 0, error: null, output });
    expect(reopened.get('empty')).toEqual({ state: 'finished', status: 'failed', exitCode: 1, error: null });
    reopened.close();
  });
});
