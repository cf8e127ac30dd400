import { privateStoresUnavailable, victoriaMetricsUnavailable } from '../../support/executables.ts';

/**
 * Whether a fault file must skip on this machine, printing why: every file runs its own
 * PostgreSQL and Redis (test/support/private-stores.ts), which need their server programs.
 */
export function skipFaultFile(name: string): boolean {
  const reason = privateStoresUnavailable();
  if (reason) console.warn(`fault suite: skipping "${name}": ${reason}`);
  return reason !== null;
}

/** Whether the VictoriaMetrics part of a fault file can run; prints why not. */
export function victoriaMetricsAvailable(name: string): boolean {
  const reason = victoriaMetricsUnavailable();
  if (reason) console.warn(`fault suite: "${name}" runs without its VictoriaMetrics (InfluxDB protocol) outage: ${reason}`);
  return reason === null;
}
