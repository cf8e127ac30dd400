import { checkProtocolVersion, enrollInputSchema, PROTOCOL_VERSION } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { publicProcedure } from '../../platform/trpc/trpc.ts';
import { invalidateDeviceLists } from '../../stores/cache/keys.ts';
import { machineKeyFingerprint } from '../devices/index.ts';
import { createDeviceEnrollment, type DeviceEnrollment, type EnrollmentResult } from './device-enrollment.ts';
import type { EnrollmentLimit } from './enrollment-limit.ts';
import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { Audit } from '../audit/index.ts';
import type { EventPublisher } from '../events/index.ts';

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

/** What enrollment's agent procedure uses, built in the composition root (app/). */
export interface EnrollmentAgentDeps {
  audit: Audit;
  cache: CacheStore;
  db: RelationalStore;
  enrollmentLimit: EnrollmentLimit;
  env: Pick<Env, 'AGENT_INTERVAL_MS'>;
  events: EventPublisher;
  log: Logger;
}

/** The agent's first call, spread into the `agent` router: an enrollment token and the machine's inventory give a device and its secret. */
export function createEnrollmentAgentProcedures(deps: EnrollmentAgentDeps) {
  // Made at the first enrollment, not here: building the router reads no service.
  let enrollment: DeviceEnrollment | undefined;
  return {
    enroll: publicProcedure.input(enrollInputSchema).mutation(async ({ ctx, input }) => {
      // Before the token is looked at: an agent this server cannot serve must not take a device.
      const protocol = checkProtocolVersion(input.protocolVersion);
      if (!protocol.ok) throw new AppError('PRECONDITION_FAILED', protocol.message);
      const attempt = await deps.enrollmentLimit.admit(input.token, ctx.ip);
      if (!attempt.verdict.allowed) throw new AppError('TOO_MANY_REQUESTS', `Too many enrollment attempts; try again in ${attempt.verdict.resetInSec} s`);
      enrollment ??= createDeviceEnrollment(deps.db, deps.events);
      const enrolled = await enrollment.enroll({ ...input, sourceIp: ctx.ip }).catch((error: unknown) => {
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
  };
}
