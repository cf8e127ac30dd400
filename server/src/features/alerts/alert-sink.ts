import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { failure, success, type IngestRow, type Sink } from '../ingest/index.ts';
import type { MetricCondition } from './conditions.ts';
import { EMPTY_STATE, ratePerMinute, readingsOf, step } from './evaluator.ts';
import { loadStates, saveStates, stateKey, type StoredState } from './alerts-repository.ts';
import { enabledRules, type AlertRule } from './rules-repository.ts';
import { resolveScopes } from '../fleet/index.ts';
import { dedupeKey, openAlert, resolveAlert } from './lifecycle.ts';
import { activeAlertId } from './lifecycle-repository.ts';
import type { EventPublisher } from '../events/index.ts';

type SampleRow = Extract<IngestRow, { kind: 'sample' }>;
interface Pending { state: StoredState; transitions: { kind: 'open' | 'resolve'; value: number | null }[]; rule: AlertRule }

/** A state with nothing to remember: not breaching, not firing, no counter to turn into a rate. */
const quiet = (state: StoredState) => state.breachingSinceMs === null && !state.firing && state.lastCounter === null;

/**
 * The alerts consumer of the ingest log: one more sink, with its own cursor and lease, so metric
 * conditions are judged once per sample across restarts and instances. Each state remembers the
 * last log row it saw and is stored only if newer, in the transaction of its alerts: a batch
 * replayed after a crash changes nothing and opens nothing twice.
 */
export function createAlertSink(db: RelationalStore, log: Logger, events: EventPublisher): Sink {
  async function evaluate(samples: readonly SampleRow[]) {
    const organizations = [...new Set(samples.map((row) => row.organizationId))];
    const rules = await enabledRules(db, ['metric'], organizations);
    if (rules.length === 0) return;
    const byOrganization = new Map<string, AlertRule[]>();
    for (const rule of rules) byOrganization.set(rule.organizationId, [...(byOrganization.get(rule.organizationId) ?? []), rule]);
    const deviceIds = [...new Set(samples.map((row) => row.deviceId))];
    // Sites, tags and groups of the batch's devices, resolved once for every rule of the batch.
    const inScope = await resolveScopes(db, rules, deviceIds);
    const states = await loadStates(db, rules.map((rule) => rule.id), deviceIds);
    const pending = new Map<string, Pending>();
    for (const row of samples) {
      const organizationRules = byOrganization.get(row.organizationId);
      if (!organizationRules) continue;
      // A logged row's payload is parsed at each read (ingest log-repository.ts): once per row here.
      const payload = row.payload;
      for (const rule of organizationRules) {
        if (rule.excludedDeviceIds.includes(row.deviceId) || !inScope(rule, row.deviceId)) continue;
        const condition = rule.condition as MetricCondition;
        for (const reading of readingsOf(payload, condition)) {
          const key = stateKey(rule.id, row.deviceId, reading.subject);
          const entry = pending.get(key) ?? { rule, transitions: [], state: states.get(key) ?? { ...EMPTY_STATE, ruleId: rule.id, deviceId: row.deviceId, subject: reading.subject, lastLogId: 0 } };
          if (row.id <= entry.state.lastLogId) continue; // judged before a crash
          const atMs = row.collectedAt.getTime();
          const value = reading.counter === undefined ? reading.value : ratePerMinute(entry.state, reading.counter, atMs);
          const result = step(entry.state, condition, value, atMs);
          entry.state = { ...entry.state, ...result.state, lastLogId: row.id,
            ...(reading.counter === undefined ? {} : { lastCounter: reading.counter, lastAtMs: atMs }) };
          if (result.transition) entry.transitions.push({ kind: result.transition, value });
          pending.set(key, entry);
        }
      }
    }
    // A state that was quiet and stays quiet, with nothing to do, is not written: judging its rows
    // again after a crash would change nothing and open nothing. That is most of them, and at
    // 10,000 devices under ten rules writing each one per batch was the evaluator's whole cost.
    const changed = [...pending].filter(([key, entry]) => {
      const before = states.get(key);
      return (before !== undefined && !quiet(before)) || !quiet(entry.state) || entry.transitions.length > 0;
    });
    let opened = 0;
    await db.transaction(async (tx) => {
      const stored = await saveStates(tx, changed.map(([, entry]) => entry.state));
      for (const [key, { state, transitions, rule }] of changed) {
        if (!stored.has(key)) continue; // another instance or an earlier run stored it already
        for (const transition of transitions) {
          if (transition.kind === 'open') {
            if (await openAlert(tx, events, rule, state.deviceId, state.subject, transition.value)) opened++;
            continue;
          }
          const active = await activeAlertId(tx, dedupeKey(rule.id, state.deviceId, state.subject));
          if (active) await resolveAlert(tx, events, active, null, rule.channelIds);
        }
      }
    });
    if (opened > 0) log.info({ opened }, 'alerts opened');
  }

  return {
    name: 'alerts',
    async init() {},
    async write(batch) {
      try {
        await evaluate(batch.filter((row): row is SampleRow => row.kind === 'sample'));
        return success();
      } catch (error) {
        return failure(error);
      }
    },
    health: () => db.health(),
    async close() {},
  };
}
