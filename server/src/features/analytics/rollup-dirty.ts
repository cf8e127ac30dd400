import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import { startOfHourMs, unixSec } from '../../stores/analytics/time.ts';

/**
 * Samples that arrive after their hour was rolled up mark the hour dirty; the next rollup run
 * redoes it. The version is the wall clock, so a mark made while a rollup reads beats its 'done'.
 */
export async function markHoursDirty(analytics: AnalyticsStore, sampleTimesMs: readonly number[], nowMs = Date.now()): Promise<void> {
  const current = startOfHourMs(nowMs);
  const hours = new Set(sampleTimesMs.map(startOfHourMs).filter((hour) => hour < current));
  if (hours.size === 0) return;
  await analytics.insert('rollup_state', [...hours].map((hour) => ({ hour: unixSec(hour), status: 'dirty', version: nowMs })));
}
