import { sql } from 'kysely';
import { anyUuid, compileOnce, typed, type SqlExecutor } from '../../stores/relational/index.ts';

/** A session's recording stops growing here; later events are dropped and the recording flagged truncated. */
export const MAX_RECORDING_BYTES = 4 * 1024 * 1024;

/** asciicast v2 event kinds: output, input, resize. */
export type RecordingKind = 'o' | 'i' | 'r';

export interface RecordingSummary {
  sessionId: string;
  deviceId: string;
  userLabel: string;
  shell: string;
  pty: boolean | null;
  cols: number;
  rows: number;
  startedAt: Date;
  endedAt: Date | null;
  endReason: string | null;
  bytes: number;
  truncated: boolean;
}

/** One event of a batch. */
export interface RecordingEvent { sessionId: string; kind: RecordingKind; data: string }

// The batch as one JSON parameter, then the cap: the statement's parameters in this order
// (compileOnce checks it). Compiled once: every keystroke and every output report lands here.
const EVENTS_JSON = '';
const CAP = -1;
const APPEND_EVENTS = compileOnce((db) => {
  const e = sql<{ i: number; sessionId: string; kind: string; data: string; size: number }>`jsonb_to_recordset(${EVENTS_JSON}::jsonb)`
    .as<'e'>(sql`e(i int, session_id uuid, kind text, data text, size bigint)`);
  return db
    .with('e', (q) => q.selectFrom(e).selectAll())
    .with('t', (q) => q.selectFrom('e').select((eb) => ['e.sessionId', eb.fn.sum<number>('e.size').as('size')]).groupBy('e.sessionId'))
    // The size check, the count and the events together, so two instances cannot both pass the cap.
    .with('r', (q) => q.updateTable('shellRecordings as s').from('t')
      .set((eb) => ({ bytes: eb('s.bytes', '+', eb.ref('t.size')) }))
      .whereRef('s.sessionId', '=', 't.sessionId').where('s.endedAt', 'is', null)
      .where((eb) => eb(eb('s.bytes', '+', eb.ref('t.size')), '<=', CAP))
      .returning(['s.sessionId', 's.startedAt']))
    .insertInto('shellRecordingEvents').columns(['sessionId', 'atMs', 'kind', 'data'])
    .expression((eb) => eb.selectFrom('e').innerJoin('r', 'r.sessionId', 'e.sessionId')
      .select((inner) => [
        'e.sessionId',
        // The database's clock (one for every instance that records into the session), as the
        // batch is written: an event's time is late by its wait for the batch (a statement's
        // duration at most) and never earlier than the event before it, which a replay needs.
        sql<number>`GREATEST(0, (extract(epoch FROM clock_timestamp() - ${inner.ref('r.startedAt')}) * 1000)::bigint)`.as('atMs'),
        'e.kind', 'e.data',
      ])
      // Ids in the order typed and printed: a replay orders events of one millisecond by id.
      .orderBy('e.i'))
    .returning('sessionId');
}, [EVENTS_JSON, CAP]);

// bytes and at_ms are bigint, which both stores read as numbers.
const SUMMARY_COLUMNS = [
  'sessionId', 'deviceId', 'userLabel', 'shell', 'pty', 'cols', 'rows', 'startedAt', 'endedAt', 'endReason', 'bytes', 'truncated',
] as const;

/** The SQL of terminal recordings (see migration 018). */
export function recordingRepository(executor: SqlExecutor) {
  const db = typed(executor);
  return {
    /** Whether the device exists in the organization (null: any organization, for the local admin), retired or not. */
    async deviceVisible(organizationId: string | null, deviceId: string): Promise<boolean> {
      const row = await db.selectFrom('devices').select(sql.lit(1).as('one')).where('id', '=', deviceId)
        .$if(organizationId !== null, (query) => query.where('organizationId', '=', organizationId!))
        .executeTakeFirst();
      return row !== undefined;
    },

    async begin(r: { sessionId: string; organizationId: string; deviceId: string; userId: string | null; userLabel: string; shell: string; cols: number; rows: number }) {
      await db.insertInto('shellRecordings')
        .values({
          sessionId: r.sessionId, organizationId: r.organizationId, deviceId: r.deviceId, userId: r.userId, userLabel: r.userLabel,
          shell: r.shell, cols: r.cols, rows: r.rows,
        })
        .onConflict((conflict) => conflict.column('sessionId').doNothing())
        .execute();
    },

    /**
     * Appends a batch of events (several sessions' at once) in one statement, each timed by the
     * database clock from its session's start.
     * Per session, the batch is kept whole or dropped whole at the cap (the recording is then
     * flagged truncated); returns the sessions whose events were kept.
     */
    async appendMany(events: readonly RecordingEvent[], maxBytes = MAX_RECORDING_BYTES): Promise<Set<string>> {
      if (events.length === 0) return new Set();
      const json = JSON.stringify(events.map((event, i) => ({
        i, session_id: event.sessionId, kind: event.kind, data: event.data, size: Buffer.byteLength(event.data),
      })));
      const { rows } = await executor.query<{ session_id: string }>(APPEND_EVENTS, [json, maxBytes]);
      const kept = new Set(rows.map((row) => row.session_id));
      await this.markTruncated([...new Set(events.map((event) => event.sessionId))].filter((id) => !kept.has(id)));
      return kept;
    },

    /** Flags these sessions' recordings as missing events (past the cap, or dropped before they were written). */
    async markTruncated(sessionIds: readonly string[]) {
      if (sessionIds.length === 0) return;
      await db.updateTable('shellRecordings').set({ truncated: true })
        .where('sessionId', '=', anyUuid(sessionIds)).where('endedAt', 'is', null).where((eb) => eb.not(eb.ref('truncated')))
        .execute();
    },

    async markPty(sessionId: string, pty: boolean) {
      await db.updateTable('shellRecordings').set({ pty }).where('sessionId', '=', sessionId).execute();
    },

    async resize(sessionId: string, cols: number, rows: number) {
      await db.updateTable('shellRecordings')
        .set((eb) => ({ cols: eb.fn('greatest', ['cols', eb.val(cols)]), rows: eb.fn('greatest', ['rows', eb.val(rows)]) }))
        .where('sessionId', '=', sessionId)
        .execute();
    },

    /** Ends the recording once; null when it had already ended (or never began). */
    async end(sessionId: string, reason: string): Promise<(RecordingSummary & { organizationId: string; userId: string | null }) | null> {
      const row = await db.updateTable('shellRecordings').set({ endedAt: sql<Date>`now()`, endReason: reason.slice(0, 500) })
        .where('sessionId', '=', sessionId).where('endedAt', 'is', null)
        .returning([...SUMMARY_COLUMNS, 'organizationId', 'userId'])
        .executeTakeFirst();
      return row ?? null;
    },

    /** A device's recordings, newest first, within an organization (null: any, for the local admin). */
    async list(organizationId: string | null, deviceId: string, limit: number): Promise<RecordingSummary[]> {
      return db.selectFrom('shellRecordings').select(SUMMARY_COLUMNS)
        .where('deviceId', '=', deviceId)
        .$if(organizationId !== null, (query) => query.where('organizationId', '=', organizationId!))
        .orderBy('startedAt', 'desc').limit(limit)
        .execute();
    },

    async get(organizationId: string | null, sessionId: string): Promise<RecordingSummary | null> {
      const row = await db.selectFrom('shellRecordings').select(SUMMARY_COLUMNS)
        .where('sessionId', '=', sessionId)
        .$if(organizationId !== null, (query) => query.where('organizationId', '=', organizationId!))
        .executeTakeFirst();
      return row ?? null;
    },

    async events(sessionId: string): Promise<{ atMs: number; kind: RecordingKind; data: string }[]> {
      return db.selectFrom('shellRecordingEvents').select(['atMs', 'kind', 'data'])
        .where('sessionId', '=', sessionId).orderBy('atMs').orderBy('id')
        .$narrowType<{ kind: RecordingKind }>()
        .execute();
    },
  };
}
export type RecordingRepository = ReturnType<typeof recordingRepository>;

/** The recording as an asciicast v2 file: a header line, then one `[seconds, kind, data]` line per event. */
export function toAsciicast(summary: RecordingSummary, events: readonly { atMs: number; kind: RecordingKind; data: string }[]): string {
  const header = {
    version: 2, width: summary.cols, height: summary.rows, timestamp: Math.floor(new Date(summary.startedAt).getTime() / 1000),
    title: `${summary.userLabel} on ${summary.deviceId}`, env: { SHELL: summary.shell, TERM: 'xterm-256color' },
  };
  const lines = events.map((e) => JSON.stringify([Math.round(e.atMs) / 1000, e.kind, e.data]));
  return `${[JSON.stringify(header), ...lines].join('\n')}\n`;
}
