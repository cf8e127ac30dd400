import { describe, expect, it } from 'vitest';
import { conditionSchema, parseWhen, type MetricCondition } from './conditions.ts';
import { EMPTY_STATE, isFlapping, ratePerMinute, readingsOf, step, FLAP_WINDOW_MS, type ConditionState } from './evaluator.ts';

const cpu = (patch: Partial<MetricCondition> = {}): MetricCondition =>
  ({ kind: 'metric', metric: 'cpu', op: '>', threshold: 90, forSec: 300, ...patch });

/** Feeds readings a minute apart; returns the transitions, in order, with their minute. */
function run(condition: MetricCondition, values: number[], start: ConditionState = EMPTY_STATE) {
  let state = start;
  const transitions: string[] = [];
  values.forEach((value, minute) => {
    const result = step(state, condition, value, minute * 60_000);
    state = result.state;
    if (result.transition) transitions.push(`${result.transition}@${minute}`);
  });
  return { state, transitions };
}

describe('metric evaluator', () => {
  it('opens only after the condition held for its duration', () => {
    expect(run(cpu(), [95, 95, 95, 95, 95]).transitions).toEqual([]);
    expect(run(cpu(), [95, 95, 95, 95, 95, 95]).transitions).toEqual(['open@5']);
  });

  it('restarts the duration when a reading stops breaching', () => {
    expect(run(cpu(), [95, 95, 95, 50, 95, 95, 95, 95, 95]).transitions).toEqual([]);
    expect(run(cpu(), [95, 95, 95, 50, 95, 95, 95, 95, 95, 95]).transitions).toEqual(['open@9']);
  });

  it('opens at once without a duration, and once only while it holds', () => {
    expect(run(cpu({ forSec: 0 }), [95, 96, 99, 100]).transitions).toEqual(['open@0']);
  });

  it('clears only below the clearing value (hysteresis)', () => {
    const condition = cpu({ forSec: 0, clear: 80 });
    expect(run(condition, [95, 85, 89, 91, 85]).transitions).toEqual(['open@0']);
    expect(run(condition, [95, 85, 79]).transitions).toEqual(['open@0', 'resolve@2']);
  });

  it('clears when it stops breaching without a clearing value', () => {
    expect(run(cpu({ forSec: 0 }), [95, 90]).transitions).toEqual(['open@0', 'resolve@1']);
  });

  it('handles "below" conditions symmetrically', () => {
    const condition = cpu({ op: '<', threshold: 10, clear: 20, forSec: 0 });
    expect(run(condition, [5, 15, 25]).transitions).toEqual(['open@0', 'resolve@2']);
  });

  it('treats cpu >= 0 as always true', () => {
    expect(run(cpu({ op: '>=', threshold: 0, forSec: 0 }), [0, 3, 0]).transitions).toEqual(['open@0']);
  });

  it('reads disks per mount and network errors as a rate', () => {
    const sample = {
      cpu: { loadPercent: 1, perCorePercent: [] },
      memory: { totalBytes: 100, usedBytes: 50, availableBytes: 25, swapTotalBytes: 0, swapUsedBytes: 0 },
      disks: [{ mount: '/', fs: 'a', type: 'ext4', sizeBytes: 200, usedBytes: 150 }, { mount: '/var', fs: 'b', type: 'ext4', sizeBytes: 100, usedBytes: 10 }],
      network: [{ iface: 'eth0', rxBytes: 0, txBytes: 0, rxBytesPerSec: null, txBytesPerSec: null, rxErrors: 7, txErrors: 3 }],
      uptimeSec: 1,
    };
    expect(readingsOf(sample, { ...cpu(), metric: 'disk' })).toEqual([{ subject: '/', value: 75 }, { subject: '/var', value: 10 }]);
    expect(readingsOf(sample, { ...cpu(), metric: 'disk', mount: '/var' })).toEqual([{ subject: '/var', value: 10 }]);
    expect(readingsOf(sample, { ...cpu(), metric: 'memory' })[0]!.value).toBe(75);
    expect(readingsOf(sample, { ...cpu(), metric: 'network_errors' })[0]!.counter).toBe(10);
    expect(ratePerMinute({ ...EMPTY_STATE, lastCounter: 4, lastAtMs: 0 }, 10, 30_000)).toBe(12);
    expect(ratePerMinute({ ...EMPTY_STATE, lastCounter: 40, lastAtMs: 0 }, 10, 30_000)).toBeNull();
  });
});

describe('flap suppression', () => {
  it('calls the fourth open within the window flapping', () => {
    const now = 10 * FLAP_WINDOW_MS;
    expect(isFlapping([now - 1000, now - 2000], now)).toBe(false);
    expect(isFlapping([now - 1000, now - 2000, now - 3000], now)).toBe(true);
    expect(isFlapping([now - 1000, now - 2000, now - FLAP_WINDOW_MS - 1], now)).toBe(false);
  });
});

describe('conditions as people write them', () => {
  it('parses the CLI forms', () => {
    expect(parseWhen('cpu > 90', { forSec: 300, clear: 80 })).toEqual({ kind: 'metric', metric: 'cpu', op: '>', threshold: 90, forSec: 300, clear: 80 });
    expect(parseWhen('disk:/var >= 95')).toMatchObject({ metric: 'disk', mount: '/var', op: '>=', threshold: 95 });
    expect(parseWhen('offline > 10m')).toEqual({ kind: 'offline', forSec: 600 });
    expect(parseWhen('version_behind')).toEqual({ kind: 'version_behind' });
  });

  it('refuses unknown metrics, negative durations and out-of-range thresholds with clear errors', () => {
    expect(() => parseWhen('temperature > 3')).toThrow(/Unknown metric "temperature"/);
    expect(() => parseWhen('offline > -5m')).toThrow(/not a duration/);
    expect(() => parseWhen('cpu > -1')).toThrow(/threshold/);
    expect(conditionSchema.safeParse(parseWhen('cpu > 190')).success).toBe(false);
    expect(conditionSchema.safeParse({ kind: 'metric', metric: 'cpu', op: '>', threshold: 90, forSec: -1 }).success).toBe(false);
    expect(conditionSchema.safeParse(parseWhen('cpu > 90', { clear: 95 })).success).toBe(false);
  });
});
