import { checkProtocolVersion, enrollInputSchema, heartbeatInputSchema, PROTOCOL_VERSION, pushInputSchema } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { machineKeyFingerprint, rotateDeviceSecret, type AuthenticatedDevice } from '../devices/index.ts';
import { enrollDevice, type EnrollmentResult, type EnrollmentLimit } from '../enrollment/index.ts';
import { agentProcedure, publicProcedure, router } from '../../platform/trpc/trpc.ts';
import { agentErrorLogs } from '../logs/index.ts';
import { invalidateDeviceLists } from '../../stores/cache/keys.ts';
import { effectiveDeviceSettings } from '../settings/index.ts';
import { recordHeartbeat } from './ingest-state.ts';
import type { AgentSession } from '../../platform/trpc/context.ts';
import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Audit } from '../audit/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { DocumentStore } from '../../stores/documents/index.ts';
import type { EventPublisher } from '../events/index.ts';
import type { IngestLog } from './ingest-log.ts';

/** Characters of the reported hostname an audit entry keeps. */
const AUDIT_HOSTNAME_CHARS = 255;

const ENROLLMENT_ACTIONS = { enrolled: 'device.enrolled', reenrolled: 'device.reenrolled', pending: 'device.enrollment_pending' } as const;

/** What an enrollment's audit entry records: no person did it, so the token, the address and the machine say who. */
function enrollmentDetails(enrolled: EnrollmentResult, input: { inventory: { hostname: string; machineKey: string } }, sourceIp: string | null) {
  return {
    enrollmentTokenId: enrolled.tokenId,
    sourceIp,
    machineKeyFingerprint: machineKeyFingerprint(input.inventory.machineKey),
    hostname: input.inventory.hostname.slice(0, AUDIT_HOSTNAME_CHARS),
    ...(enrolled.claimsDeviceId ? { claimsDeviceId: enrolled.claimsDeviceId, pendingReason: enrolled.pendingReason } : {}),
  };
}

/**
 * The interval the device's settings ask for, read at most once per AGENT_SETTINGS_REFRESH_MS per
 * connection (a heartbeat comes every interval from every device). A failed read keeps the last answer.
 */
async function settingsInterval(services: { env: Pick<Env, 'AGENT_SETTINGS_REFRESH_MS'>; db: RelationalStore; log: Logger }, device: AuthenticatedDevice, session: AgentSession): Promise<number | undefined> {
  const now = Date.now();
  if (now - session.intervalReadAt < services.env.AGENT_SETTINGS_REFRESH_MS) return session.intervalMs;
  session.intervalReadAt = now;
  try {
    const seconds = (await effectiveDeviceSettings(services.db, device.organizationId, device.deviceId)).agentIntervalSeconds;
    session.intervalMs = seconds === undefined ? undefined : seconds * 1_000;
  } catch (err) {
    services.log.warn({ err, deviceId: device.deviceId }, 'could not read the device\'s settings; keeping its interval');
  }
  return session.intervalMs;
}

/** What these procedures use, built in the composition root (app/). */
export interface AgentRouterDeps {
  audit: Audit;
  cache: CacheStore;
  db: RelationalStore;
  documents: DocumentStore;
  enrollmentLimit: EnrollmentLimit;
  env: Env;
  events: EventPublisher;
  ingest: IngestLog;
  log: Logger;
  metrics: Metrics;
}

export function createAgentRouter(deps: AgentRouterDeps) {
  return router({
  enroll: publicProcedure.input(enrollInputSchema).mutation(async ({ ctx, input }) => {
    // Before the token is looked at: an agent this server cannot serve must not take a device.
    const protocol = checkProtocolVersion(input.protocolVersion);
    if (!protocol.ok) throw new AppError('PRECONDITION_FAILED', protocol.message);
    const attempt = await deps.enrollmentLimit.admit(input.token, ctx.ip);
    if (!attempt.verdict.allowed) throw new AppError('TOO_MANY_REQUESTS', `Too many enrollment attempts; try again in ${attempt.verdict.resetInSec} s`);
    const enrolled = await enrollDevice(deps.db, deps.events, { ...input, sourceIp: ctx.ip }).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'UNAUTHORIZED') attempt.refused();
      else attempt.failed();
      throw error;
    });
    attempt.enrolled(enrolled.tokenId);
    await invalidateDeviceLists(deps.cache, [enrolled.organizationId]).catch(() => undefined);
    await deps.audit(ctx, {
      action: ENROLLMENT_ACTIONS[enrolled.outcome], organizationId: enrolled.organizationId, resourceId: enrolled.deviceId,
      details: enrollmentDetails(enrolled, input, ctx.ip),
    });
    const { deviceId, organizationId, outcome, claimsDeviceId } = enrolled;
    deps.log[outcome === 'pending' ? 'warn' : 'info']({ deviceId, organizationId, outcome, claimsDeviceId },
      outcome === 'pending' ? 'enrollment claims a known machine without its secret: waiting for an admin' : 'device enrolled');
    return {
      deviceId, organizationId, deviceSecret: enrolled.deviceSecret, nextSeq: enrolled.nextSeq, reused: enrolled.reused,
      status: enrolled.status, intervalMs: deps.env.AGENT_INTERVAL_MS, protocolVersion: PROTOCOL_VERSION,
    };
  }),

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
    const intervalMs = await settingsInterval(deps, ctx.device, session);
    // Never above what is logged: pushes on this connection raise it as they are acked.
    return { serverTime: Date.now(), ackSeq: session.ackSeq, acceptedServerPins: deps.env.TLS_NEXT_SPKI_PINS, ...(intervalMs !== undefined && { intervalMs }) };
  }),

  /** Replaces this device's secret; the agent stores the new one before using it. */
  rotateSecret: agentProcedure.mutation(async ({ ctx }) => {
    const deviceSecret = await rotateDeviceSecret(deps.db, ctx.device.deviceId);
    deps.log.info({ deviceId: ctx.device.deviceId }, 'device secret rotated');
    return { deviceSecret };
  }),

  push: agentProcedure.input(pushInputSchema).mutation(async ({ ctx, input }) => {
    const ackSeq = await deps.ingest.append(ctx.device, input.records, ctx.ip);
    ctx.agentSession.ackSeq = Math.max(ctx.agentSession.ackSeq, ackSeq);
    return { ackSeq };
  }),
});
}
