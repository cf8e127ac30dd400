import type { MetricSample } from '@ninjait/shared';
import type { MetricCondition } from './conditions.ts';

/** The evaluator's memory for one rule, device and subject, kept in alert_condition_state. */
export interface ConditionState {
  /** Collection time the condition started to hold (null: it does not hold). */
  breachingSinceMs: number | null;
  /** An alert is open for it (until the value clears). */
  firing: boolean;
  /** The previous cumulative counter (network errors), to turn counters into rates. */
  lastCounter: number | null;
  lastAtMs: number | null;
}

export const EMPTY_STATE: ConditionState = { breachingSinceMs: null, firing: false, lastCounter: null, lastAtMs: null };

export type Transition = 'open' | 'resolve' | null;

/** One reading of a condition's metric: `subject` names the mount or is '' for device-wide values. */
export interface Reading { subject: string; value: number | null; counter?: number }

const percent = (part: number, whole: number) => (whole > 0 ? Math.min(100, Math.max(0, (part / whole) * 100)) : 0);

/** The values a sample holds for a condition: one per mount for disks, one otherwise. */
export function readingsOf(sample: MetricSample, condition: MetricCondition): Reading[] {
  switch (condition.metric) {
    case 'cpu': return [{ subject: '', value: sample.cpu.loadPercent }];
    case 'memory': return [{ subject: '', value: percent(sample.memory.totalBytes - sample.memory.availableBytes, sample.memory.totalBytes) }];
    case 'disk': return sample.disks
      .filter((disk) => !condition.mount || disk.mount === condition.mount)
      .map((disk) => ({ subject: disk.mount, value: percent(disk.usedBytes, disk.sizeBytes) }));
    case 'network_errors': {
      const counter = sample.network.reduce((sum, nic) => sum + nic.rxErrors + nic.txErrors, 0);
      return [{ subject: '', value: null, counter }];
    }
  }
}

/** Turns a cumulative counter into errors per minute against the previous reading; null without one (or after a reset). */
export function ratePerMinute(state: ConditionState, counter: number, atMs: number): number | null {
  if (state.lastCounter === null || state.lastAtMs === null || atMs <= state.lastAtMs || counter < state.lastCounter) return null;
  return ((counter - state.lastCounter) / (atMs - state.lastAtMs)) * 60_000;
}

function breaches(condition: MetricCondition, value: number): boolean {
  switch (condition.op) {
    case '>': return value > condition.threshold;
    case '>=': return value >= condition.threshold;
    case '<': return value < condition.threshold;
    case '<=': return value <= condition.threshold;
  }
}

/** Hysteresis: a firing condition clears only past its clearing value, not as soon as it stops breaching. */
function clears(condition: MetricCondition, value: number): boolean {
  if (condition.clear === undefined) return !breaches(condition, value);
  return condition.op.startsWith('>') ? value < condition.clear : value > condition.clear;
}

/**
 * One reading through a condition: opens once the condition has held for `forSec` (measured
 * between the agent's collection times, so a replay or a slow drainer decides the same), resolves
 * once the value clears. Pure: the caller stores the state and acts on the transition.
 */
export function step(state: ConditionState, condition: MetricCondition, value: number | null, atMs: number): { state: ConditionState; transition: Transition } {
  if (value === null) return { state, transition: null };
  if (state.firing) {
    return clears(condition, value)
      ? { state: { ...state, breachingSinceMs: null, firing: false }, transition: 'resolve' }
      : { state, transition: null };
  }
  if (!breaches(condition, value)) return { state: { ...state, breachingSinceMs: null }, transition: null };
  const since = state.breachingSinceMs ?? atMs;
  if (atMs - since >= condition.forSec * 1000) return { state: { ...state, breachingSinceMs: since, firing: true }, transition: 'open' };
  return { state: { ...state, breachingSinceMs: since }, transition: null };
}

/** Opens of one dedupe key within FLAP_WINDOW_MS that make the next one "flapping": opened, not notified. */
export const FLAP_OPENS = 3;
export const FLAP_WINDOW_MS = 30 * 60_000;

/** Whether an alert opening now is flapping, given when the same key opened before. */
export function isFlapping(previousOpensMs: readonly number[], nowMs: number): boolean {
  return previousOpensMs.filter((at) => nowMs - at <= FLAP_WINDOW_MS).length >= FLAP_OPENS;
}
