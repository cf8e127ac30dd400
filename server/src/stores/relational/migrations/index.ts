import { foundation } from './001-foundation.ts';
import { ingest } from './002-ingest.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: a released migration is never edited. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'foundation', sql: foundation },
  { version: 2, name: 'ingest', sql: ingest },
];
