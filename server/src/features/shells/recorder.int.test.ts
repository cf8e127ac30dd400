import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrate, openRelationalStore, type RelationalStore, type SqlExecutor } from '../../stores/relational/index.ts';
import { createRecorder, MAX_PENDING_EVENTS } from './recorder.ts';
import { recordingRepository } from './recordings.ts';

/** The store, counting the statements that write events, and able to hold them back (a database that stalls). */
function instrumented(db: RelationalStore) {
  let eventStatements = 0;
  let gate: Promise<void> | null = null;
  const executor: SqlExecutor = {
    ...db,
    async query(text: string, params?: readonly unknown[]) {
      if (text.includes('shell_recording_events')) {
        eventStatements += 1;
        if (gate) await gate;
      }
      return db.query(text, params as unknown[]);
    },
  } as SqlExecutor;
  return {
    executor,
    statements: () => eventStatements,
    hold() {
      let open!: () => void;
      gate = new Promise<void>((resolve) => { open = resolve; });
      return () => { gate = null; open(); };
    },
  };
}

describe.each(relationalEngines())('terminal recordings written as a group commit on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;
  let organizationId: string;
  let deviceId: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-recorder-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
    organizationId = (await db.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('Recorded') RETURNING id`)).rows[0]!.id;
    deviceId = (await db.query<{ id: string }>(`INSERT INTO devices (name, organization_id, status) VALUES ('r1', $1, 'online') RETURNING id`, [organizationId])).rows[0]!.id;
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function newSession() {
    const sessionId = randomUUID();
    await recordingRepository(db).begin({ sessionId, organizationId, deviceId, userId: null, userLabel: 'tech', shell: 'bash', cols: 80, rows: 24 });
    return sessionId;
  }

  it("keeps every session's events in the order they came, many events to a statement", async () => {
    const store = instrumented(db);
    const recorder = createRecorder(store.executor);
    const sessions = await Promise.all(Array.from({ length: 20 }, () => newSession()));
    // Twenty terminals, each typing and printing at once: all in flight together, as on a busy server.
    const written = await Promise.all(sessions.flatMap((sessionId) => Array.from({ length: 25 }, (_, i) =>
      recorder.append(sessionId, i % 2 === 0 ? 'i' : 'o', `${sessionId.slice(0, 4)}-${i}`))));
    expect(written.every(Boolean)).toBe(true);
    // One for the first event (nothing was being written), then the rest shared statements.
    expect(store.statements()).toBeLessThanOrEqual(3);
    for (const sessionId of sessions) {
      const events = await recordingRepository(db).events(sessionId);
      expect(events.map((e) => e.data)).toEqual(Array.from({ length: 25 }, (_, i) => `${sessionId.slice(0, 4)}-${i}`));
      expect(events.map((e) => e.kind)).toEqual(Array.from({ length: 25 }, (_, i) => (i % 2 === 0 ? 'i' : 'o')));
      const times = events.map((e) => Number(e.atMs));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
  });

  it('drops a session past its cap, flagging its recording, and keeps the others', async () => {
    const [full, other] = [await newSession(), await newSession()];
    const recorder = createRecorder(db);
    const big = 'x'.repeat(1024 * 1024);
    const kept = await Promise.all([...Array.from({ length: 5 }, () => recorder.append(full, 'o', big)), recorder.append(other, 'o', 'fine')]);
    // 4 MiB is the cap: the fifth mebibyte does not fit.
    expect(kept.at(-1)).toBe(true);
    expect(kept.slice(0, 5).filter(Boolean).length).toBeLessThan(5);
    const summary = await recordingRepository(db).get(null, full);
    expect(summary?.truncated).toBe(true);
    expect(Number(summary?.bytes)).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect((await recordingRepository(db).get(null, other))?.truncated).toBe(false);
  });

  it('holds at most its bound while the database stalls: the rest are dropped and the recording flagged', async () => {
    const store = instrumented(db);
    const recorder = createRecorder(store.executor);
    const sessionId = await newSession();
    const release = store.hold();
    const first = recorder.append(sessionId, 'o', 'first');
    const waiting = Array.from({ length: MAX_PENDING_EVENTS }, (_, i) => recorder.append(sessionId, 'o', String(i)));
    expect(await recorder.append(sessionId, 'o', 'one too many')).toBe(false);
    expect(recorder.dropped()).toBe(1);
    release();
    expect(await first).toBe(true);
    expect((await Promise.all(waiting)).every(Boolean)).toBe(true);
    await until(async () => (await recordingRepository(db).get(null, sessionId))?.truncated === true);
    expect((await recordingRepository(db).events(sessionId)).length).toBe(MAX_PENDING_EVENTS + 1);
  });

  it('resolves false, never throws, when the write fails', async () => {
    const failing = { ...db, query: async () => { throw new Error('connection lost'); } } as unknown as SqlExecutor;
    expect(await createRecorder(failing).append(randomUUID(), 'o', 'lost')).toBe(false);
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}
