import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { unixSec } from '../../stores/analytics/time.ts';
import { advanceAlertEventCursor, alertEventsAfter } from './alerts-repository.ts';

const NO_USER = '00000000-0000-0000-0000-000000000000';
const BATCH_ROWS = 5_000;
const SETTLE_SEC = 2;

/**
 * Copies alert_event_log (written with each transition) to ClickHouse's alert_events. The cursor
 * moves only after ClickHouse took the batch; the token (id range) drops a replay.
 */
export async function copyAlertEvents(db: RelationalStore, analytics: AnalyticsStore, settleSec = SETTLE_SEC): Promise<number> {
  let copied = 0;
  for (;;) {
    const { rows } = await alertEventsAfter(db, settleSec, BATCH_ROWS);
    if (rows.length === 0) return copied;
    await analytics.insert('alert_events', rows.map((row) => ({
      alert_id: row.alertId, event_type: row.eventType, severity: row.severity, timestamp: unixSec(new Date(row.at).getTime()),
      organization_id: row.organizationId, device_id: row.deviceId, rule_id: row.ruleId, actor_id: row.actorId ?? NO_USER,
    })), { dedupToken: `alert_events:${rows[0]!.id}-${rows.at(-1)!.id}` });
    await advanceAlertEventCursor(db, rows.at(-1)!.id);
    copied += rows.length;
  }
}
