import { enrollInputSchema, heartbeatInputSchema, pushInputSchema } from '@ninjait/shared';
import { AppError } from '../../errors.ts';
import { enrollDevice, rotateDeviceSecret } from '../../domain/devices.ts';
import { agentProcedure, publicProcedure, router } from '../trpc.ts';
import { agentErrorLogs } from '../../obs/log-shipper.ts';
import { invalidateDeviceLists } from '../../sinks/cache-sink.ts';
import { commandAgentProcedures } from '../../commands/agent-procedures.ts';

/** Enrollment attempts per source address per rate-limit window: guessing tokens is slow. */
const ENROLL_ATTEMPTS_PER_WINDOW = 30;

export const agentRouter = router({
  enroll: publicProcedure.input(enrollInputSchema).mutation(async ({ ctx, input }) => {
    const verdict = await ctx.services.rateLimit(`ip:${ctx.ip}`, 'agent.enroll', ENROLL_ATTEMPTS_PER_WINDOW);
    if (!verdict.allowed) throw new AppError('TOO_MANY_REQUESTS', `Too many enrollment attempts; try again in ${verdict.resetInSec} s`);
    const enrolled = await enrollDevice(ctx.services.db, { ...input, sourceIp: ctx.ip });
    await invalidateDeviceLists(ctx.services.cache, [enrolled.organizationId]).catch(() => undefined);
    ctx.services.log.info({ deviceId: enrolled.deviceId, organizationId: enrolled.organizationId, reused: enrolled.reused }, 'device enrolled');
    return { ...enrolled, intervalMs: ctx.services.env.AGENT_INTERVAL_MS };
  }),

  heartbeat: agentProcedure.input(heartbeatInputSchema).mutation(async ({ ctx, input }) => {
    const { db, metrics } = ctx.services;
    const session = ctx.agentSession;
    const settings = JSON.stringify([input.intervalMs, input.agentVersion, input.droppedTotal]);
    // A steady agent repeats its settings: only the first heartbeat of a connection, or a change, reaches the database.
    if (session.settings !== settings) {
      // One round trip: the settings update (skipped when nothing changed) and the ack position.
      const { rows: [state] } = await db.query<{ previous: number | null; lastSeq: number | null }>(
        `WITH before AS (SELECT dropped_total FROM devices WHERE id = $1),
              changed AS (
                UPDATE devices d SET report_interval_ms = $2, agent_version = $3, dropped_total = GREATEST(d.dropped_total, $4)
                WHERE d.id = $1 AND (d.report_interval_ms <> $2 OR d.agent_version IS DISTINCT FROM $3 OR d.dropped_total < $4)
                RETURNING 1)
         SELECT (SELECT dropped_total FROM before WHERE EXISTS (SELECT 1 FROM changed)) AS previous,
                (SELECT last_seq FROM device_ingest_state WHERE device_id = $1) AS "lastSeq"`,
        [ctx.device.deviceId, input.intervalMs, input.agentVersion, input.droppedTotal],
      );
      session.settings = settings;
      session.ackSeq = Math.max(session.ackSeq, state?.lastSeq ?? 0);
      const newlyDropped = input.droppedTotal - (state?.previous ?? input.droppedTotal);
      if (newlyDropped > 0) {
        metrics.agentDropped.inc(newlyDropped);
        ctx.services.log.warn({ deviceId: ctx.device.deviceId, dropped: newlyDropped, droppedTotal: input.droppedTotal }, 'agent dropped records: its buffer was full');
      }
    }
    if (input.errors.length > 0) {
      await ctx.services.documents.logs.insert(agentErrorLogs(ctx.device, input.errors))
        .catch((err: unknown) => ctx.services.log.warn({ err, deviceId: ctx.device.deviceId }, 'could not store agent errors'));
    }
    // Never above what is logged: pushes on this connection raise it as they are acked.
    return { serverTime: Date.now(), ackSeq: session.ackSeq };
  }),

  /** Replaces this device's secret; the agent stores the new one before using it. */
  rotateSecret: agentProcedure.mutation(async ({ ctx }) => {
    const deviceSecret = await rotateDeviceSecret(ctx.services.db, ctx.device.deviceId);
    ctx.services.log.info({ deviceId: ctx.device.deviceId }, 'device secret rotated');
    return { deviceSecret };
  }),

  push: agentProcedure.input(pushInputSchema).mutation(async ({ ctx, input }) => {
    const ackSeq = await ctx.services.ingest.append(ctx.device, input.records, ctx.ip);
    ctx.agentSession.ackSeq = Math.max(ctx.agentSession.ackSeq, ackSeq);
    return { ackSeq };
  }),
  // Remote commands and shells: the `commands` subscription and the reports (server/src/commands).
  ...commandAgentProcedures,
});
