import { compareVersions } from '@ninjait/shared';
import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Job } from '../../platform/scheduler/scheduler.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import { evaluateTimeConditions } from './time-conditions.ts';
import { runRemediationActions, runTicketActions, type Remediator } from './actions.ts';
import { copyAlertEvents } from './history-etl.ts';
import { runScriptChecks, type ScriptChecker } from './script-checks.ts';
import { resolveQuietSystemAlerts } from './system-alerts.ts';
import type { EventPublisher } from '../events/index.ts';

const TIME_CONDITIONS_MS = 10_000;
const TICKET_ACTIONS_MS = 2_000;
const HISTORY_ETL_MS = 10_000;
const SYSTEM_ALERTS_MS = 60_000;
/** How often finished checks are judged and due ones started (each rule runs at its own `everySec`). */
const SCRIPT_CHECKS_MS = 2_000;

export interface AlertJobDeps {
  env: Env;
  db: RelationalStore;
  analytics: AnalyticsStore;
  log: Logger;
  events: EventPublisher;
  /** The newest agent release this server offers (read from disk: once per evaluation, not per device). */
  latestAgentVersion(): string | undefined;
  /** Runs a rule's remediation script (the scripts feature); absent: no remediation job. */
  remediate?: Remediator | undefined;
  /** Runs a script check on a device (the scripts feature); absent: no script-check job. */
  check?: ScriptChecker | undefined;
}

/**
 * The alerts' scheduled work: time-based conditions, ticket actions and the ClickHouse copy, one
 * instance at a time each (leases). Notifications leave through the shared outbox's dispatcher
 * (features/webhooks), which the composition root starts with this feature's `channelSource`.
 */
export function alertJobs(deps: AlertJobDeps): Job[] {
  const { db, log, events } = deps;
  return [
    {
      name: 'alerts-time-conditions', everyMs: TIME_CONDITIONS_MS, exclusive: true,
      async run() {
        const latest = deps.latestAgentVersion();
        const agentBehind = (version: string) => (latest ? compareVersions(version, latest) < 0 : false);
        const { opened, resolved } = await evaluateTimeConditions({ db, events, agentBehind });
        if (opened + resolved > 0) log.info({ opened, resolved }, 'time-based alerts changed');
      },
    },
    { name: 'alerts-ticket-actions', everyMs: TICKET_ACTIONS_MS, exclusive: true, run: () => runTicketActions(db, events, log) },
    ...(deps.remediate ? [{
      name: 'alerts-remediation', everyMs: TICKET_ACTIONS_MS, exclusive: true, run: () => runRemediationActions(db, deps.remediate!, log),
    }] : []),
    ...(deps.check ? [{
      name: 'alerts-script-checks', everyMs: SCRIPT_CHECKS_MS, exclusive: true,
      async run() {
        const { started, opened, resolved } = await runScriptChecks({ db, events, log, check: deps.check! });
        if (opened + resolved > 0) log.info({ started, opened, resolved }, 'script-check alerts changed');
      },
    }] : []),
    { name: 'alerts-history-etl', everyMs: HISTORY_ETL_MS, exclusive: true, run: () => copyAlertEvents(db, deps.analytics) },
    {
      name: 'alerts-system-quiet', everyMs: SYSTEM_ALERTS_MS, exclusive: true,
      async run() {
        const resolved = await resolveQuietSystemAlerts(db);
        if (resolved > 0) log.info({ resolved }, 'system alerts resolved: their condition stopped');
      },
    },
  ];
}
