import { heartbeatInputSchema, pushInputSchema } from '@ninjait/shared';
import { agentProcedure } from '../../platform/trpc/trpc.ts';
import { agentErrorLogs } from '../logs/index.ts';
import { effectiveSettingsOfDevices } from '../settings/index.ts';
import { recordHeartbeat } from './ingest-state.ts';
import type { AuthenticatedDevice } from '../devices/index.ts';
import type { AgentSession } from '../../platform/trpc/context.ts';
import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import { createWarnLimiter, type WarnLimiter } from '../../platform/obs/warn-limiter.ts';
import { createBatchedReads } from '../../platform/batched-reads.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { DocumentStore } from '../../stores/documents/index.ts';
import type { IngestLog } from './ingest-log.ts';

/** How long a heartbeat's settings read waits for others to share its statement (once a minute per connection). */
const SETTINGS_READ_WINDOW_MS = 50;
/** Devices one settings statement reads at most. */
const SETTINGS_READ_MAX_DEVICES = 500;

/** Heartbeats' settings reads, batched into one statement per window (see createBatchedReads). */
function createSettingsReads(db: RelationalStore) {
  const reads = createBatchedReads((devices: readonly AuthenticatedDevice[]) => effectiveSettingsOfDevices(db, devices), {
    // The pair, not the device alone: the statement checks each device against its organization.
    key: (device) => `${device.organizationId} ${device.deviceId}`,
    windowMs: SETTINGS_READ_WINDOW_MS,
    maxKeys: SETTINGS_READ_MAX_DEVICES,
  });
  return (device: AuthenticatedDevice) => reads.read(device);
}

/**
 * The interval the device's settings ask for, read at most once per AGENT_SETTINGS_REFRESH_MS per
 * connection (a heartbeat comes every interval from every device). A failed read keeps the last answer.
 */
async function settingsInterval(
  services: { env: Pick<Env, 'AGENT_SETTINGS_REFRESH_MS'>; log: Logger; warnLimiter: WarnLimiter; readSettings: ReturnType<typeof createSettingsReads> },
  device: AuthenticatedDevice,
  session: AgentSession,
): Promise<number | undefined> {
  const now = Date.now();
  if (now - session.intervalReadAt < services.env.AGENT_SETTINGS_REFRESH_MS) return session.intervalMs;
  session.intervalReadAt = now;
  try {
    const settings = await services.readSettings(device);
    // A device gone meanwhile has no settings: its socket is closed by decommissioning, not here.
    const seconds = settings?.agentIntervalSeconds;
    session.intervalMs = seconds === undefined ? undefined : seconds * 1_000;
  } catch (err) {
    // A database that fails one device's read fails them all: one line (with its stack) per quiet period.
    const line = services.warnLimiter('settings read failed');
    if (line) services.log.warn({ err, deviceId: device.deviceId, repeatedSinceLast: line.repeatedSinceLast }, 'could not read the device\'s settings; keeping its interval');
  }
  return session.intervalMs;
}

/** What ingest's agent procedures use, built in the composition root (app/). */
export interface IngestAgentDeps {
  db: RelationalStore;
  documents: DocumentStore;
  env: Pick<Env, 'AGENT_SETTINGS_REFRESH_MS' | 'TLS_NEXT_SPKI_PINS'>;
  ingest: IngestLog;
  log: Logger;
  metrics: Metrics;
}

/** An agent's steady traffic, spread into the `agent` router: its heartbeat and its pushes of records to the ingest log. */
export function createIngestAgentProcedures(deps: IngestAgentDeps) {
  const warnLimiter = createWarnLimiter();
  // Made at the first heartbeat, not here: building the router reads no service.
  let readSettings: ReturnType<typeof createSettingsReads> | undefined;
  return {
    heartbeat: agentProcedure.input(heartbeatInputSchema).mutation(async ({ ctx, input }) => {
      const { db, metrics } = deps;
      const session = ctx.agentSession;
      const settings = JSON.stringify([input.intervalMs, input.agentVersion, input.droppedTotal]);
      // A steady agent repeats its settings: only the first heartbeat of a connection, or a change, reaches the database.
      if (session.settings !== settings) {
        // One round trip: the settings update (skipped when nothing changed) and the ack position.
        const state = await recordHeartbeat(db, ctx.device.deviceId, input);
        session.settings = settings;
        session.ackSeq = Math.max(session.ackSeq, state?.lastSeq ?? 0);
        const newlyDropped = input.droppedTotal - (state?.previous ?? input.droppedTotal);
        if (newlyDropped > 0) {
          metrics.agentDropped.inc(newlyDropped);
          deps.log.warn({ deviceId: ctx.device.deviceId, dropped: newlyDropped, droppedTotal: input.droppedTotal }, 'agent dropped records: its buffer was full');
        }
      }
      if (input.errors.length > 0) {
        await deps.documents.logs.insert(agentErrorLogs(ctx.device, input.errors))
          .catch((err: unknown) => deps.log.warn({ err, deviceId: ctx.device.deviceId }, 'could not store agent errors'));
      }
      readSettings ??= createSettingsReads(deps.db);
      const intervalMs = await settingsInterval({ env: deps.env, log: deps.log, warnLimiter, readSettings }, ctx.device, session);
      // Never above what is logged: pushes on this connection raise it as they are acked.
      return { serverTime: Date.now(), ackSeq: session.ackSeq, acceptedServerPins: deps.env.TLS_NEXT_SPKI_PINS, ...(intervalMs !== undefined && { intervalMs }) };
    }),

    push: agentProcedure.input(pushInputSchema).mutation(async ({ ctx, input }) => {
      const ackSeq = await deps.ingest.append(ctx.device, input.records, ctx.ip);
      ctx.agentSession.ackSeq = Math.max(ctx.agentSession.ackSeq, ackSeq);
      return { ackSeq };
    }),
  };
}
