import { tables } from './001-tables.ts';
import { jobs } from './002-jobs.ts';
import { alertEvents } from './003-alert-events.ts';
import { softwareChanges } from './004-software-changes.ts';
import { billingSources } from './005-billing-sources.ts';
import { metricUsage } from './006-metric-usage.ts';
import { usageSequences } from './007-usage-sequences.ts';

export interface AnalyticsMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Append only: a released migration is never edited. */
export const analyticsMigrations: readonly AnalyticsMigration[] = [
  { version: 1, name: 'tables', statements: tables },
  { version: 2, name: 'jobs', statements: jobs },
  { version: 3, name: 'alert-events', statements: alertEvents },
  { version: 4, name: 'software-changes', statements: softwareChanges },
  { version: 5, name: 'billing-sources', statements: billingSources },
  { version: 6, name: 'metric-usage', statements: metricUsage },
  { version: 7, name: 'usage-sequences', statements: usageSequences },
];
