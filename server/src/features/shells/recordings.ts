import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';

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
     * Appends one event, timed by the database clock from the session's start (one clock for every
     * instance that records into the session). Past the cap, the event is dropped and the
     * recording flagged; returns whether it was kept.
     */
    async append(sessionId: string, kind: RecordingKind, data: string, maxBytes = MAX_RECORDING_BYTES): Promise<boolean> {
      const size = Buffer.byteLength(data);
      // One statement: the size check, the count and the event together, so two instances cannot both pass the cap.
      const result = await db
        .with('r', (q) => q.updateTable('shellRecordings').set((eb) => ({ bytes: eb('bytes', '+', size) }))
          .where('sessionId', '=', sessionId).where('endedAt', 'is', null).where((eb) => eb(eb('bytes', '+', size), '<=', maxBytes))
          .returning('startedAt'))
        .insertInto('shellRecordingEvents').columns(['sessionId', 'atMs', 'kind', 'data'])
        .expression((eb) => eb.selectFrom('r').select((inner) => [
          sql<string>`${sessionId}`.as('sessionId'),
          sql<number>`GREATEST(0, (extract(epoch FROM clock_timestamp() - ${inner.ref('r.startedAt')}) * 1000)::bigint)`.as('atMs'),
          sql<string>`${kind}`.as('kind'), sql<string>`${data}`.as('data'),
        ]))
        .executeTakeFirst();
      if (result.numInsertedOrUpdatedRows !== undefined && result.numInsertedOrUpdatedRows > 0n) return true;
      await db.updateTable('shellRecordings').set({ truncated: true })
        .where('sessionId', '=', sessionId).where('endedAt', 'is', null).where((eb) => eb.not(eb.ref('truncated')))
        .execute();
      return false;
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
