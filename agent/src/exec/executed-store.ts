import Database from 'better-sqlite3';
import { ensurePrivateDatabase } from '../util/private-files.ts';
import type { Chunk } from './chunk-batcher.ts';
import type { StoredResult } from './types.ts';

export { COMMANDS_DB_FILE } from '../config/paths.ts';
/** Finished records are kept this long: far past any redelivery (commands expire within 7 days). */
const KEEP_FINISHED_MS = 30 * 24 * 60 * 60 * 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS executed_commands (
  id          TEXT PRIMARY KEY,
  state       TEXT NOT NULL CHECK (state IN ('running', 'finished')),
  status      TEXT,
  exit_code   INTEGER,
  error       TEXT,
  received_at INTEGER NOT NULL,
  finished_at INTEGER,
  output      TEXT
);
CREATE INDEX IF NOT EXISTS executed_commands_finished_at ON executed_commands (finished_at);
`;

interface Row {
  state: 'running' | 'finished';
  status: StoredResult['status'] | null;
  exit_code: number | null;
  error: string | null;
  output: string | null;
}

/** A finished command's result, with the output its result carries when none was sent before (a quick command's). */
export type FinishedRecord = StoredResult & { output?: Chunk[] };
export type ExecutedRecord = { state: 'running' } | ({ state: 'finished' } & FinishedRecord);

/**
 * Which commands this machine has run, in SQLite (WAL, synchronous FULL): a command id is
 * recorded before its process starts, so a redelivered command never runs twice, even across
 * agent restarts; its result is kept to be re-reported.
 */
export function openExecutedStore(file: string, now: () => number = Date.now) {
  ensurePrivateDatabase(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  // Stores created before results carried output lack the column.
  const columns = db.pragma('table_info(executed_commands)') as { name: string }[];
  if (!columns.some((column) => column.name === 'output')) db.exec('ALTER TABLE executed_commands ADD COLUMN output TEXT');
  const select = db.prepare<[string], Row>('SELECT state, status, exit_code, error, output FROM executed_commands WHERE id = ?');
  const insert = db.prepare('INSERT OR IGNORE INTO executed_commands (id, state, received_at) VALUES (?, \'running\', ?)');
  const finishStmt = db.prepare(`INSERT INTO executed_commands (id, state, status, exit_code, error, received_at, finished_at, output)
    VALUES (@id, 'finished', @status, @exitCode, @error, @now, @now, @output)
    ON CONFLICT (id) DO UPDATE SET state = 'finished', status = @status, exit_code = @exitCode, error = @error, finished_at = @now, output = @output`);
  db.prepare('DELETE FROM executed_commands WHERE state = \'finished\' AND finished_at < ?').run(now() - KEEP_FINISHED_MS);

  return {
    get(id: string): ExecutedRecord | null {
      const row = select.get(id);
      if (!row) return null;
      if (row.state === 'running') return { state: 'running' };
      const record: ExecutedRecord = { state: 'finished', status: row.status!, exitCode: row.exit_code, error: row.error };
      if (row.output !== null) record.output = JSON.parse(row.output) as Chunk[];
      return record;
    },
    /** Records the id before running; false when it was already there (never run it then). */
    begin(id: string): boolean {
      return insert.run(id, now()).changes === 1;
    },
    /** Records the result; output given here is reported with it, and so kept to be reported again. */
    finish(id: string, result: FinishedRecord): void {
      const output = result.output && result.output.length > 0 ? JSON.stringify(result.output) : null;
      finishStmt.run({ id, status: result.status, exitCode: result.exitCode, error: result.error, now: now(), output });
    },
    close(): void {
      db.close();
    },
  };
}
export type ExecutedStore = ReturnType<typeof openExecutedStore>;
