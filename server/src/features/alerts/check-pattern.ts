import { Script, createContext } from 'node:vm';

/** A script check's output pattern is at most this long. */
export const MAX_CHECK_PATTERN = 200;
/** Output a pattern is tried on: the first 64 KiB (stdout and stderr as the device sent them). */
export const MAX_CHECK_OUTPUT = 64 * 1024;
/** A match that takes longer is stopped: the check counts as failed rather than stalling the scheduler. */
const MATCH_TIMEOUT_MS = 100;

const REPEAT = /^(?:[*+]|\{\d+,\d*\})/;

/**
 * Why a pattern is refused, or null. Besides syntax, refuses what can backtrack exponentially on
 * hostile or unlucky output: back-references, and a repeated group that itself repeats or
 * alternates (`(a+)+`, `(a*)*`, `(a|a)*`, `(x{1,9}){2,}`). What remains is matched under a time
 * bound as well (`matchesOutput`), so a pattern this check misses still cannot hang the server.
 */
export function patternProblem(pattern: string): string | null {
  if (pattern.length > MAX_CHECK_PATTERN) return `a pattern is at most ${MAX_CHECK_PATTERN} characters`;
  try {
    new RegExp(pattern);
  } catch (error) {
    return `not a regular expression: ${(error as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'back-references are not allowed in a check pattern';
  // Per open group: whether something inside repeats or alternates.
  const groups: { repeats: boolean; alternates: boolean }[] = [{ repeats: false, alternates: false }];
  let closed: { repeats: boolean; alternates: boolean } | null = null;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    const last = closed;
    closed = null;
    if (ch === '\\') { i++; continue; }
    if (ch === '[') {
      // A character class is one atom: skip to its unescaped end.
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      continue;
    }
    if (ch === '(') { groups.push({ repeats: false, alternates: false }); continue; }
    if (ch === '|') { groups.at(-1)!.alternates = true; continue; }
    if (ch === ')') {
      const group = groups.length > 1 ? groups.pop()! : { repeats: false, alternates: false };
      closed = group;
      if (group.repeats) groups.at(-1)!.repeats = true;
      continue;
    }
    const repeat = REPEAT.exec(pattern.slice(i));
    if (repeat) {
      if (last && (last.repeats || last.alternates)) return 'a repeated group may not itself repeat or alternate (e.g. (a+)+ or (a|b)*): it can take exponential time';
      groups.at(-1)!.repeats = true;
      i += repeat[0].length - 1;
    }
  }
  return null;
}

// One isolated context for every match: the time bound needs `vm`, and building a context per match is wasteful.
const context = createContext({ re: /$^/, text: '' });
const runMatch = new Script('re.test(text)');

/**
 * Whether the (bounded) output matches; 'timeout' when the match ran past its time bound.
 * The pattern must have passed `patternProblem`.
 */
export function matchesOutput(pattern: string, ignoreCase: boolean, output: string): boolean | 'timeout' {
  context.re = new RegExp(pattern, ignoreCase ? 'i' : '');
  context.text = output.slice(0, MAX_CHECK_OUTPUT);
  try {
    return runMatch.runInContext(context, { timeout: MATCH_TIMEOUT_MS }) === true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw error;
  } finally {
    context.text = '';
  }
}
