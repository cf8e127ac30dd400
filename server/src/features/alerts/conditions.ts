import { z } from 'zod';
import { MAX_CHECK_PATTERN, patternProblem } from './check-pattern.ts';

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

/** Script checks run at most this often per device, and at least daily. */
export const MIN_CHECK_EVERY_SEC = 60;
const MAX_CHECK_EVERY_SEC = 86_400;
export const DEFAULT_CHECK_EVERY_SEC = 300;

/**
 * A saved script run on a schedule on each device of the rule's scope. The alert opens when a
 * run fails (any of its tests holds: the exit code compares so, the output matches `~` or does not
 * match `!~` the pattern) and resolves when a run passes. A run that times out or cannot start
 * fails; one the device never picked up (expired) decides nothing.
 */
export const scriptConditionSchema = z.object({
  kind: z.literal('script'),
  scriptId: z.uuid(),
  everySec: z.number().int().min(MIN_CHECK_EVERY_SEC).max(MAX_CHECK_EVERY_SEC).default(DEFAULT_CHECK_EVERY_SEC),
  /** Longest a run may take on the device; longer fails the check. */
  timeoutSec: z.number().int().min(1).max(3_600).default(60),
  exit: z.object({ op: z.enum(['==', '!=']), code: z.number().int().min(0).max(255) }).strict().optional(),
  output: z.object({
    op: z.enum(['~', '!~']),
    pattern: z.string().min(1).max(MAX_CHECK_PATTERN),
    ignoreCase: z.boolean().default(false),
  }).strict().optional(),
}).strict().superRefine((condition, ctx) => {
  if (!condition.exit && !condition.output) ctx.addIssue({ code: 'custom', message: 'a script check tests the exit code, the output, or both' });
  const problem = condition.output ? patternProblem(condition.output.pattern) : null;
  if (problem) ctx.addIssue({ code: 'custom', path: ['output', 'pattern'], message: problem });
  if (condition.timeoutSec > condition.everySec) ctx.addIssue({ code: 'custom', message: 'a check must time out by the time the next one is due' });
});

export const conditionSchema = z.discriminatedUnion('kind', [
  metricConditionSchema,
  scriptConditionSchema,
  /** The device has been offline (the sweeper's verdict) longer than this. */
  z.object({ kind: z.literal('offline'), forSec: z.number().int().min(60).max(MAX_DURATION_SEC) }).strict(),
  /** The agent reported dropping buffered samples; clears after `forSec` without new drops. */
  z.object({ kind: z.literal('dropping'), forSec: z.number().int().min(60).max(MAX_DURATION_SEC).default(3_600) }).strict(),
  /** The agent runs an older version than the newest release this server offers. */
  z.object({ kind: z.literal('version_behind') }).strict(),
]);
export type Condition = z.infer<typeof conditionSchema>;
export type MetricCondition = Extract<Condition, { kind: 'metric' }>;
export type ScriptCondition = Extract<Condition, { kind: 'script' }>;

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

const WHEN_HELP = "write 'cpu > 90', 'memory >= 80', 'disk > 90', 'disk:/var > 90', 'network_errors > 10', 'offline > 10m', 'dropping', "
  + "'version_behind' or 'script NAME exit != 0' (also 'script NAME output ~ /PATTERN/', '!~', 'or' between tests)";

/** One test of a script check: `exit != 0`, `exit == 2`, `output ~ /re/`, `output !~ /re/i`; the rest after ` or `. */
const CHECK_TEST = /^(?:exit\s*(==|!=)\s*(\d{1,3})|output\s*(!~|~)\s*\/((?:\\.|[^/\\])+)\/(i?))(?:\s+or\s+([\s\S]*))?$/;

/**
 * `script NAME_OR_ID TEST [or TEST]`; a name with spaces is quoted ("Disk check"). The script stays
 * a reference here (its id when a uuid, else its name): the caller resolves it in the organization.
 */
function parseScriptCheck(text: string, options: { everySec?: number | undefined; timeoutSec?: number | undefined }): Condition {
  const head = /^script\s+(?:"([^"]{1,200})"|'([^']{1,200})'|(\S{1,200}))\s+([\s\S]+)$/.exec(text);
  if (!head) throw new ConditionSyntaxError(`Cannot read "${text}": write 'script NAME exit != 0' or 'script NAME output ~ /PATTERN/' (quote a name with spaces)`);
  const condition: { kind: 'script'; scriptId: string; everySec: number; timeoutSec: number; exit?: ScriptCondition['exit']; output?: ScriptCondition['output'] } = {
    kind: 'script', scriptId: head[1] ?? head[2] ?? head[3]!, everySec: options.everySec ?? DEFAULT_CHECK_EVERY_SEC, timeoutSec: options.timeoutSec ?? 60,
  };
  let rest: string | undefined = head[4]!.trim();
  while (rest !== undefined) {
    const test = CHECK_TEST.exec(rest);
    if (!test) throw new ConditionSyntaxError(`Cannot read the check "${rest}": write 'exit != 0', 'exit == 2', 'output ~ /PATTERN/' or 'output !~ /PATTERN/i', joined by 'or'`);
    if (test[1]) {
      if (condition.exit) throw new ConditionSyntaxError('A script check tests the exit code once');
      condition.exit = { op: test[1] as '==' | '!=', code: Number(test[2]) };
    } else {
      if (condition.output) throw new ConditionSyntaxError('A script check tests the output once');
      condition.output = { op: test[3] as '~' | '!~', pattern: test[4]!.replace(/\\\//g, '/'), ignoreCase: test[5] === 'i' };
    }
    rest = test[6]?.trim();
  }
  return condition as Condition;
}

/**
 * Reads a rule's condition as a person writes it (`--when 'cpu > 90' --for 5m --clear-below 80`).
 * The result still goes through `conditionSchema`, which bounds every number.
 */
export function parseWhen(when: string, options: { forSec?: number; clear?: number; everySec?: number; timeoutSec?: number } = {}): Condition {
  if (/^script\s/i.test(when.trim())) return parseScriptCheck(when.trim().replace(/^script/i, 'script'), options);
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
    case 'script': {
      const tests = [
        ...(condition.exit ? [`exit ${condition.exit.op} ${condition.exit.code}`] : []),
        ...(condition.output ? [`output ${condition.output.op} /${condition.output.pattern}/${condition.output.ignoreCase ? 'i' : ''}`] : []),
      ];
      return `script check fails (${tests.join(' or ')}), every ${formatDuration(condition.everySec)}`;
    }
  }
}

export function formatDuration(sec: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) if (sec >= size && sec % size === 0) return `${sec / size}${unit}`;
  return `${sec}s`;
}

const SEVERITY_ORDER: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
export const severityAtLeast = (severity: Severity, minimum: Severity) => SEVERITY_ORDER[severity] >= SEVERITY_ORDER[minimum];
