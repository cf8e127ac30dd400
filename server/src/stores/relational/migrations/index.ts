import { foundation } from './001-foundation.ts';
import { ingest } from './002-ingest.ts';
import { tickets } from './003-tickets.ts';
import { commands } from './005-commands.ts';
import { documents } from './004-documents.ts';
import { ingestJson } from './006-ingest-json.ts';
import { deviceList } from './007-device-list.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: a released migration is never edited. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'foundation', sql: foundation },
  { version: 2, name: 'ingest', sql: ingest },
  { version: 3, name: 'tickets', sql: tickets },
  { version: 4, name: 'documents', sql: documents },
  { version: 5, name: 'commands', sql: commands },
  { version: 6, name: 'ingest-json', sql: ingestJson },
  { version: 7, name: 'device-list', sql: deviceList },
];
