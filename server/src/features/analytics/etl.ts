import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { startOfHourMs, unixSec } from '../../stores/analytics/time.ts';
import { advanceTicketEventCursor, deviceCountsByOrganization, deviceStatuses, ticketEventsAfterCursor } from './etl-repository.ts';
import { latestDeviceStatuses } from './clickhouse-queries.ts';

const NO_USER = '00000000-0000-0000-0000-000000000000';
const TICKET_BATCH_ROWS = 5_000;
/** Rows younger than this may still have lower ids committing behind them; wait for them. */
const SETTLE_SEC = 2;

/**
 * Copies `ticket_event_log` (PostgreSQL, written with each ticket change) to `ticket_events`.
 * The cursor moves only after ClickHouse took the batch; the token (id range) drops a replay.
 */
export async function copyTicketEvents(db: RelationalStore, analytics: AnalyticsStore, settleSec = SETTLE_SEC): Promise<number> {
  let copied = 0;
  for (;;) {
    const rows = await ticketEventsAfterCursor(db, settleSec, TICKET_BATCH_ROWS);
    if (rows.length === 0) return copied;
    await analytics.insert('ticket_events', rows.map((row) => ({
      ticket_id: row.ticketId,
      event_type: row.eventType,
      timestamp: unixSec(new Date(row.at).getTime()),
      duration_seconds: row.durationSeconds,
      sla_breached: row.slaBreached ? 1 : 0,
      organization_id: row.organizationId,
      technician_id: row.technicianId ?? NO_USER,
    })), { dedupToken: `ticket_events:${rows[0]!.id}-${rows.at(-1)!.id}` });
    await advanceTicketEventCursor(db, rows.at(-1)!.id);
    copied += rows.length;
  }
}

/** This hour's device counts per organization, from PostgreSQL (billing reads each day's peak). Idempotent per hour. */
export async function copyDeviceCounts(db: RelationalStore, analytics: AnalyticsStore, nowMs = Date.now()): Promise<number> {
  const rows = await deviceCountsByOrganization(db);
  const hour = unixSec(startOfHourMs(nowMs));
  await analytics.insert('device_count_facts', rows.map((row) => ({
    organization_id: row.organizationId, hour, device_count: row.total, online_count: row.online,
  })), { dedupToken: `device_counts:${hour}:${rows.map((row) => `${row.total}/${row.online}`).join(',')}` });
  return rows.length;
}

/**
 * Feeds `device_heartbeats` one row per status change found in PostgreSQL (offline, decommissioned,
 * back online), so the status view's "current" counts follow what the offline sweeper decides.
 */
export async function syncDeviceStatuses(db: RelationalStore, analytics: AnalyticsStore, nowMs = Date.now()): Promise<number> {
  const rows = await deviceStatuses(db);
  const known = await latestDeviceStatuses(analytics);
  const changes = rows.filter((row) => known.get(row.id) !== row.status && !(row.status === 'pending' && !known.has(row.id)));
  await analytics.insert('device_heartbeats', changes.map((row) => ({
    organization_id: row.organizationId, device_id: row.id, status: row.status, timestamp: unixSec(nowMs),
  })));
  return changes.length;
}
