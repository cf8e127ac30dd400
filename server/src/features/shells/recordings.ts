import type { SqlExecutor } from '../../stores/relational/index.ts';

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

const SUMMARY_COLUMNS = `session_id AS "sessionId", device_id AS "deviceId", user_label AS "userLabel", shell, pty, cols, rows,
  started_at AS "startedAt", ended_at AS "endedAt", end_reason AS "endReason", bytes::float8 AS bytes, truncated`;

/** The SQL of terminal recordings (see migration 018). */
export function recordingRepository(db: SqlExecutor) {
  return {
    async begin(r: { sessionId: string; organizationId: string; deviceId: string; userId: string | null; userLabel: string; shell: string; cols: number; rows: number }) {
      await db.query(
        `INSERT INTO shell_recordings (session_id, organization_id, device_id, user_id, user_label, shell, cols, rows)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (session_id) DO NOTHING`,
        [r.sessionId, r.organizationId, r.deviceId, r.userId, r.userLabel, r.shell, r.cols, r.rows],
      );
    },

    /**
     * Appends one event, timed by the database clock from the session's start (one clock for every
     * instance that records into the session). Past the cap, the event is dropped and the
     * recording flagged; returns whether it was kept.
     */
    async append(sessionId: string, kind: RecordingKind, data: string, maxBytes = MAX_RECORDING_BYTES): Promise<boolean> {
      const size = Buffer.byteLength(data);
      const { rowCount } = await db.query(
        `WITH r AS (
           UPDATE shell_recordings SET bytes = bytes + $3 WHERE session_id = $1 AND ended_at IS NULL AND bytes + $3 <= $4
           RETURNING started_at)
         INSERT INTO shell_recording_events (session_id, at_ms, kind, data)
         SELECT $1, GREATEST(0, (extract(epoch FROM clock_timestamp() - r.started_at) * 1000)::bigint), $2, $5 FROM r`,
        [sessionId, kind, size, maxBytes, data],
      );
      if ((rowCount ?? 0) > 0) return true;
      await db.query('UPDATE shell_recordings SET truncated = true WHERE session_id = $1 AND ended_at IS NULL AND NOT truncated', [sessionId]);
      return false;
    },

    async markPty(sessionId: string, pty: boolean) {
      await db.query('UPDATE shell_recordings SET pty = $2 WHERE session_id = $1', [sessionId, pty]);
    },

    async resize(sessionId: string, cols: number, rows: number) {
      await db.query('UPDATE shell_recordings SET cols = GREATEST(cols, $2), rows = GREATEST(rows, $3) WHERE session_id = $1', [sessionId, cols, rows]);
    },

    /** Ends the recording once; null when it had already ended (or never began). */
    async end(sessionId: string, reason: string): Promise<(RecordingSummary & { organizationId: string; userId: string | null }) | null> {
      const { rows } = await db.query<RecordingSummary & { organizationId: string; userId: string | null }>(
        `UPDATE shell_recordings SET ended_at = now(), end_reason = $2 WHERE session_id = $1 AND ended_at IS NULL
         RETURNING ${SUMMARY_COLUMNS}, organization_id AS "organizationId", user_id AS "userId"`,
        [sessionId, reason.slice(0, 500)],
      );
      return rows[0] ?? null;
    },

    /** A device's recordings, newest first, within an organization (null: any, for the local admin). */
    async list(organizationId: string | null, deviceId: string, limit: number): Promise<RecordingSummary[]> {
      const { rows } = await db.query<RecordingSummary>(
        `SELECT ${SUMMARY_COLUMNS} FROM shell_recordings WHERE device_id = $1 AND ($2::uuid IS NULL OR organization_id = $2)
         ORDER BY started_at DESC LIMIT $3`,
        [deviceId, organizationId, limit],
      );
      return rows;
    },

    async get(organizationId: string | null, sessionId: string): Promise<RecordingSummary | null> {
      const { rows } = await db.query<RecordingSummary>(
        `SELECT ${SUMMARY_COLUMNS} FROM shell_recordings WHERE session_id = $1 AND ($2::uuid IS NULL OR organization_id = $2)`,
        [sessionId, organizationId],
      );
      return rows[0] ?? null;
    },

    async events(sessionId: string): Promise<{ atMs: number; kind: RecordingKind; data: string }[]> {
      const { rows } = await db.query<{ atMs: number; kind: RecordingKind; data: string }>(
        'SELECT at_ms::float8 AS "atMs", kind, data FROM shell_recording_events WHERE session_id = $1 ORDER BY at_ms, id',
        [sessionId],
      );
      return rows;
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
