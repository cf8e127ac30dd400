import { z } from 'zod';

/** What a rule watches. Metric conditions run on the ingest log; the others on the scheduler. */
export const METRICS = ['cpu', 'memory', 'disk', 'network_errors'] as const;
export type MetricName = (typeof METRICS)[number];
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const OPERATORS = ['>', '>=', '<', '<='] as const;

const MAX_DURATION_SEC = 7 * 86_400;
/** Percent metrics are 0..100; error counts per minute stay under this. */
const MAX_ERRORS_PER_MIN = 1e9;
const PERCENT_METRICS: readonly MetricName[] = ['cpu', 'memory', 'disk'];

const duration = z.number().int().min(0).max(MAX_DURATION_SEC);

export const metricConditionSchema = z.object({
  kind: z.literal('metric'),
  metric: z.enum(METRICS),
  op: z.enum(OPERATORS),
  threshold: z.number().min(0).max(MAX_ERRORS_PER_MIN),
  /** The condition must hold this long (by the agent's collection times) before the alert opens. */
  forSec: duration.default(0),
  /** Hysteresis: a `>` alert clears only below this (a `<` one only above); the threshold when unset. */
  clear: z.number().min(0).max(MAX_ERRORS_PER_MIN).optional(),
  /** Disk only: one mount; every mount separately when unset. */
  mount: z.string().min(1).max(512).optional(),
}).strict().superRefine((condition, ctx) => {
  if (PERCENT_METRICS.includes(condition.metric) && (condition.threshold > 100 || (condition.clear ?? 0) > 100)) {
    ctx.addIssue({ code: 'custom', message: `${condition.metric} is a percentage: thresholds are 0 to 100` });
  }
  if (condition.mount && condition.metric !== 'disk') ctx.addIssue({ code: 'custom', message: 'a mount applies to the disk metric only' });
  if (condition.clear !== undefined) {
    const above = condition.op.startsWith('>');
    if (above ? condition.clear > condition.threshold : condition.clear < condition.threshold) {
      ctx.addIssue({ code: 'custom', message: `the clearing value must be on the other side of the threshold (${above ? 'at most' : 'at least'} ${condition.threshold})` });
    }
  }
});

export const conditionSchema = z.discriminatedUnion('kind', [
  metricConditionSchema,
  /** The device has been offline (the sweeper's verdict) longer than this. */
  z.object({ kind: z.literal('offline'), forSec: z.number().int().min(60).max(MAX_DURATION_SEC) }).strict(),
  /** The agent reported dropping buffered samples; clears after `forSec` without new drops. */
  z.object({ kind: z.literal('dropping'), forSec: z.number().int().min(60).max(MAX_DURATION_SEC).default(3_600) }).strict(),
  /** The agent runs an older version than the newest release this server offers. */
  z.object({ kind: z.literal('version_behind') }).strict(),
]);
export type Condition = z.infer<typeof conditionSchema>;
export type MetricCondition = Extract<Condition, { kind: 'metric' }>;

/** Thrown for a `--when` text the parser cannot read; the message says what is accepted. */
export class ConditionSyntaxError extends Error {
  override readonly name = 'ConditionSyntaxError';
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `30s`, `5m`, `2h`, `1d` (or plain seconds) in seconds; refuses negatives and junk. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,7})([smhd]?)$/.exec(text.trim());
  if (!match) throw new ConditionSyntaxError(`"${text}" is not a duration: write a whole number with s, m, h or d (e.g. 5m)`);
  return Number(match[1]) * DURATION_UNITS[match[2] || 's']!;
}

const WHEN_HELP = "write 'cpu > 90', 'memory >= 80', 'disk > 90', 'disk:/var > 90', 'network_errors > 10', 'offline > 10m', 'dropping' or 'version_behind'";

/**
 * Reads a rule's condition as a person writes it (`--when 'cpu > 90' --for 5m --clear-below 80`).
 * The result still goes through `conditionSchema`, which bounds every number.
 */
export function parseWhen(when: string, options: { forSec?: number; clear?: number } = {}): Condition {
  const text = when.trim().toLowerCase();
  if (text === 'dropping') return { kind: 'dropping', forSec: options.forSec ?? 3_600 };
  if (text === 'version_behind' || text === 'version behind') return { kind: 'version_behind' };
  const offline = /^offline\s*>\s*(\S+)$/.exec(text);
  if (offline) return { kind: 'offline', forSec: parseDuration(offline[1]!) };
  const metric = /^([a-z_]+)(?::(\S+))?\s*(>=|<=|>|<)\s*(-?[\d.]+)\s*%?$/.exec(when.trim());
  if (!metric) throw new ConditionSyntaxError(`Cannot read "${when}": ${WHEN_HELP}`);
  const [, name, mount, op, value] = metric;
  if (!(METRICS as readonly string[]).includes(name!.toLowerCase())) throw new ConditionSyntaxError(`Unknown metric "${name}": ${WHEN_HELP}`);
  const threshold = Number(value);
  if (!Number.isFinite(threshold) || threshold < 0) throw new ConditionSyntaxError(`"${value}" is not a threshold: use a number of 0 or more`);
  return {
    kind: 'metric', metric: name!.toLowerCase() as MetricName, op: op as MetricCondition['op'], threshold,
    forSec: options.forSec ?? 0,
    ...(options.clear !== undefined ? { clear: options.clear } : {}),
    ...(mount ? { mount } : {}),
  };
}

/** One line for people: "cpu > 90 for 5m (clears below 80)". */
export function describeCondition(condition: Condition): string {
  switch (condition.kind) {
    case 'metric': {
      const subject = condition.metric === 'disk' && condition.mount ? `disk ${condition.mount}` : condition.metric.replace('_', ' ');
      const unit = condition.metric === 'network_errors' ? '/min' : '%';
      const held = condition.forSec > 0 ? ` for ${formatDuration(condition.forSec)}` : '';
      const clear = condition.clear !== undefined ? ` (clears ${condition.op.startsWith('>') ? 'below' : 'above'} ${condition.clear}${unit})` : '';
      return `${subject} ${condition.op} ${condition.threshold}${unit}${held}${clear}`;
    }
    case 'offline': return `offline for more than ${formatDuration(condition.forSec)}`;
    case 'dropping': return 'agent dropping buffered data';
    case 'version_behind': return 'agent version behind the current release';
  }
}

export function formatDuration(sec: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) if (sec >= size && sec % size === 0) return `${sec / size}${unit}`;
  return `${sec}s`;
}

const SEVERITY_ORDER: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
export const severityAtLeast = (severity: Severity, minimum: Severity) => SEVERITY_ORDER[severity] >= SEVERITY_ORDER[minimum];
