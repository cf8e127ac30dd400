import { tables } from './001-tables.ts';
import { jobs } from './002-jobs.ts';

export interface AnalyticsMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Append only: a released migration is never edited. */
export const analyticsMigrations: readonly AnalyticsMigration[] = [
  { version: 1, name: 'tables', statements: tables },
  { version: 2, name: 'jobs', statements: jobs },
];
