import { sql } from 'kysely';
import type { Logger } from '../../platform/obs/logger.ts';
import type { SlowQuery } from '../../platform/obs/query-observer.ts';
import { secondsAgo, typed, type SqlExecutor } from '../../stores/relational/index.ts';

/**
 * Alerts about the server itself (table `system_alerts`), for the people who run it: shown on the
 * System page to admins of the organization that runs the install, never to tenants (a slow
 * query's text can name any organization's rows). Today one kind: slow queries.
 */
export interface SystemAlert {
  id: string;
  kind: string;
  state: string;
  title: string;
  details: unknown;
  occurrences: number;
  openedAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
}

/** A slow-query alert resolves itself after this long without another slow query of its kind. */
export const SYSTEM_ALERT_QUIET_SEC = 3_600;
/** Slow queries waiting to be written; past it they are only logged (they already are). */
const MAX_PENDING_KEYS = 100;

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g;

/**
 * A slow query's text as its shape: ids and times of the one call replaced by `<id>` and `<time>`.
 * SQL arrives as a shape already (its values are parameters), but the other stores' texts name
 * the call's keys, devices and time windows (`hourly(2026-12-01T00:00:00.000Z..…)`). An alert
 * stands for every slow query of its store and operation, and the System page shows it to people:
 * the log line keeps the whole text for whoever investigates.
 */
export function queryShape(text: string): string {
  return text.replace(UUID, '<id>').replace(ISO_TIME, '<time>');
}

const COLUMNS = ['id', 'kind', 'state', 'title', 'details', 'occurrences', 'openedAt', 'lastSeenAt', 'resolvedAt'] as const;

export interface SystemCondition {
  kind: string;
  /** One active alert per key: the same condition again counts on it. */
  key: string;
  title: string;
  details: Record<string, unknown>;
  occurrences: number;
}

/** Opens the condition's alert, or counts more occurrences on the active one. `opened` says which. */
export async function raiseSystemAlert(db: SqlExecutor, condition: SystemCondition): Promise<{ id: string; opened: boolean }> {
  return typed(db).insertInto('systemAlerts')
    .values({
      kind: condition.kind, dedupeKey: condition.key, state: 'open', title: condition.title.slice(0, 2_000),
      details: JSON.stringify(condition.details), occurrences: condition.occurrences,
    })
    .onConflict((conflict) => conflict.column('dedupeKey').where('state', '<>', 'resolved').doUpdateSet({
      occurrences: sql`system_alerts.occurrences + excluded.occurrences`,
      lastSeenAt: sql`NOW()`,
    }))
    // xmax is 0 on a row this statement inserted, the updating transaction's id otherwise.
    .returning(['id', sql<boolean>`xmax = 0`.as('opened')])
    .executeTakeFirstOrThrow();
}

/** Active ones first, then the newest; at most `limit`. */
export async function listSystemAlerts(db: SqlExecutor, limit = 20): Promise<SystemAlert[]> {
  return typed(db).selectFrom('systemAlerts').select(COLUMNS)
    .orderBy(sql`state = 'resolved'`).orderBy('openedAt', 'desc').limit(limit).execute();
}

/** Resolves the active alerts nothing has raised for `quietSec`; returns how many. */
export async function resolveQuietSystemAlerts(db: SqlExecutor, quietSec = SYSTEM_ALERT_QUIET_SEC): Promise<number> {
  const rows = await typed(db).updateTable('systemAlerts')
    .set({ state: 'resolved', resolvedAt: sql`NOW()`, resolution: 'auto' })
    .where('state', '<>', 'resolved')
    .where('lastSeenAt', '<', secondsAgo(quietSec))
    .returning('id').execute();
  return rows.length;
}

export interface SlowQueryAlerts {
  /** Called by the stores' observer for each slow query: never throws, never waits. */
  record(query: SlowQuery): void;
  /** Resolves once everything recorded so far is written (tests, shutdown). */
  flush(): Promise<void>;
}

/**
 * Slow queries as system alerts, one per store and operation (`slow_query:relational:select`).
 * Writes are coalesced: a burst of slow queries is one upsert per key with their count, written
 * by one loop at a time, so a database that is slow already is not sent a write per slow query.
 * `db` must be the store without the observer, or writing an alert could raise another.
 */
export function createSlowQueryAlerts(db: SqlExecutor, log: Pick<Logger, 'info' | 'warn'>, thresholdMs: number): SlowQueryAlerts {
  const pending = new Map<string, { query: SlowQuery; count: number }>();
  let writing: Promise<void> | null = null;

  async function writeAll() {
    while (pending.size > 0) {
      const [key, { query, count }] = pending.entries().next().value!;
      pending.delete(key);
      try {
        const { opened } = await raiseSystemAlert(db, {
          kind: 'slow_query', key, occurrences: count,
          title: `Slow ${query.store} queries (${query.operation}): ${query.durationMs} ms, over the ${thresholdMs} ms limit (SLOW_QUERY_MS)`,
          details: { store: query.store, operation: query.operation, durationMs: query.durationMs, thresholdMs, query: queryShape(query.query) },
        });
        if (opened) log.info({ store: query.store, operation: query.operation, durationMs: query.durationMs }, 'slow-query alert opened');
      } catch (error) {
        log.warn({ err: error, store: query.store, operation: query.operation }, 'could not record a slow-query alert');
      }
    }
  }

  const drain = () => {
    writing ??= writeAll().finally(() => { writing = null; });
    return writing;
  };

  return {
    record(query) {
      const key = `slow_query:${query.store}:${query.operation}`;
      const entry = pending.get(key);
      if (entry) entry.count++;
      else if (pending.size < MAX_PENDING_KEYS) pending.set(key, { query, count: 1 });
      void drain();
    },
    async flush() {
      while (writing || pending.size > 0) await drain();
    },
  };
}
