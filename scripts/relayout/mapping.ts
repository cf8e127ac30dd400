import { readFileSync } from 'node:fs';

/** A line the relayout deletes before moving, because the move would make it point the wrong way. */
export interface LineEdit {
  file: string;
  deleteLine: string;
  why: string;
}

/** The relayout's decisions, read from map.json beside this file. */
export interface Mapping {
  /** Folder whose every tracked file needs a decision (e.g. `server/src/`). */
  scope: string;
  /** Folders of the new layout: files already there need no entry. */
  newLayoutRoots: string[];
  /** Every file of `scope`: old path -> new path (equal when it stays). */
  files: Record<string, string>;
  /**
   * Where an unmapped file probably goes, by longest folder prefix: the rest of its path is kept
   * below the target; `{stem}` in the target is its name up to the first dot.
   */
  suggest: Record<string, string>;
  edits: LineEdit[];
  /** Test support and benchmark folders: production files of `scope` must not import them. */
  testOnlyRoots: string[];
  /** Path prefixes whose text is never rewritten (history such as benchmark results, this tool). */
  textExclude: string[];
}

const isStringRecord = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** Reads and checks the mapping; throws naming the first field that is wrong. */
export function loadMapping(path: string): Mapping {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const fail = (field: string, want: string): never => { throw new Error(`${path}: "${field}" must be ${want}`); };
  if (typeof raw.scope !== 'string' || !raw.scope.endsWith('/')) fail('scope', 'a folder path ending in /');
  if (!isStringArray(raw.newLayoutRoots)) fail('newLayoutRoots', 'an array of folder paths');
  if (!isStringRecord(raw.files)) fail('files', 'an object of old path -> new path');
  if (!isStringRecord(raw.suggest)) fail('suggest', 'an object of folder -> target folder');
  if (!isStringArray(raw.textExclude)) fail('textExclude', 'an array of path prefixes');
  if (!isStringArray(raw.testOnlyRoots)) fail('testOnlyRoots', 'an array of folder paths');
  const edits = raw.edits ?? [];
  if (!Array.isArray(edits) || !edits.every((e: Record<string, unknown>) => typeof e?.file === 'string' && typeof e.deleteLine === 'string' && typeof e.why === 'string')) {
    fail('edits', 'an array of { file, deleteLine, why }');
  }
  return raw as unknown as Mapping;
}
