import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { AppError } from '../../platform/errors.ts';
import { closeTicket, createTicket, type TicketPriority } from '../tickets/index.ts';
import type { Severity } from './conditions.ts';
import type { EventPublisher } from '../events/index.ts';
import {
  alertsNeedingRemediation, alertsNeedingTickets, claimRemediation, finishedRemediations, linkTicket, markRemediation, markTicketClosed,
  remediationCommandOf, remediationLabel, ticketsToClose, type RemediationDue,
} from './alerts-repository.ts';

const PRIORITY: Record<Severity, TicketPriority> = { critical: 'high', warning: 'medium', info: 'low' };
const BATCH = 100;

/**
 * The ticket action, on the scheduler under a lease: opens a ticket (priority from severity, so
 * the SLA follows) for each active alert whose rule asks for one, and closes it when the alert
 * resolves if the rule says so. Run after the transition commits, so an outage of this step
 * only delays tickets; a crash between creating and linking a ticket can leave one extra
 * ticket, never a missing one.
 */
export async function runTicketActions(db: RelationalStore, events: EventPublisher, log: Logger): Promise<void> {
  for (const alert of await alertsNeedingTickets(db, BATCH)) {
    const ticket = await createTicket(db, events, alert.organizationId, null, {
      title: `Alert: ${alert.title}`.slice(0, 500),
      description: `Opened automatically by alert ${alert.id}.`,
      priority: PRIORITY[alert.severity], deviceId: alert.deviceId,
    });
    if (!(await linkTicket(db, alert.id, ticket.id))) await closeTicket(db, events, alert.organizationId, ticket.id, null);
  }
  for (const alert of await ticketsToClose(db, BATCH)) {
    try {
      await closeTicket(db, events, alert.organizationId, alert.ticketId, null);
    } catch (error) {
      // Closed by a person already, or deleted: nothing left to do.
      if (!(error instanceof AppError) || (error.code !== 'CONFLICT' && error.code !== 'NOT_FOUND')) throw error;
      log.debug({ alertId: alert.id, ticketId: alert.ticketId }, 'ticket of a resolved alert was already closed');
    }
    await markTicketClosed(db, alert.id);
  }
}

/** A claim older than this was left by a server that stopped between claiming and starting the script. */
const REMEDIATION_STALE_SEC = 120;

/**
 * What runs a rule's remediation script on the alert's device (the scripts feature): returns the
 * command it started, labelled `label` so an interrupted claim finds it. Throws a typed error when
 * the script cannot run there (deleted, another OS): recorded on the alert as a failure.
 */
export type Remediator = (alert: RemediationDue, label: string) => Promise<{ commandId: string }>;

/**
 * The remediation action, on the scheduler under a lease: runs the rule's script once on the
 * device of each new alert and records the outcome on the alert. Exactly once across restarts: the
 * claim (null → starting) is taken before the command is created, and a claim a crash left behind
 * is settled by looking for the command it labelled: linked if it exists, started if it never did.
 */
export async function runRemediationActions(db: RelationalStore, remediate: Remediator, log: Logger): Promise<void> {
  for (const alert of await alertsNeedingRemediation(db, BATCH, REMEDIATION_STALE_SEC)) {
    if (!(await claimRemediation(db, alert.id, alert.stale))) continue;
    const existing = alert.stale ? await remediationCommandOf(db, alert.id) : null;
    if (existing) {
      await markRemediation(db, alert.id, { state: 'running', commandId: existing });
      continue;
    }
    try {
      const { commandId } = await remediate(alert, remediationLabel(alert.id));
      await markRemediation(db, alert.id, { state: 'running', commandId });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      log.info({ alertId: alert.id, err: error }, 'remediation script could not start');
      await markRemediation(db, alert.id, { state: 'failed', error: error.message });
    }
  }
  for (const done of await finishedRemediations(db, BATCH)) {
    const ok = done.status === 'succeeded';
    await markRemediation(db, done.id, {
      state: ok ? 'succeeded' : 'failed', exitCode: done.exitCode,
      error: ok ? null : done.error ?? `The script ${done.status.replace('_', ' ')}${done.exitCode !== null ? ` with exit code ${done.exitCode}` : ''}`,
    });
  }
}
