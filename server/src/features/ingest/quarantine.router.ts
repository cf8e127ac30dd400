import { z } from 'zod';
import { listQuarantine } from './quarantine.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Env } from '../../platform/config/index.ts';

/** Rows per page of the quarantine list, and the most one call returns. */
const QUARANTINE_PAGE_DEFAULT = 50;
const QUARANTINE_PAGE_MAX = 200;
/** Enough of the payload to recognise it; the full record stays in the table. */
const PAYLOAD_PREVIEW_CHARS = 2_000;

const listInputSchema = z.object({
  limit: z.number().int().min(1).max(QUARANTINE_PAGE_MAX).default(QUARANTINE_PAGE_DEFAULT),
  /** `nextCursor` of the previous page. */
  cursor: z.string().regex(/^\d{1,18}$/).optional(),
  /** Only this device's records; another organization's device matches nothing. */
  deviceId: z.uuid().optional(),
}).strict();

/** What these procedures use, built in the composition root (app/). */
export interface QuarantineRouterDeps {
  db: RelationalStore;
  env: Env;
}

export function createQuarantineRouter(deps: QuarantineRouterDeps) {
  return router({
    /**
     * Records this organization's devices sent that the server took but could not store (a store
     * refused them, or their time was implausible), newest first, with the reason. Admins: the
     * payload is raw device data.
     */
    list: userProcedure('admin')
      .input(listInputSchema.default({ limit: QUARANTINE_PAGE_DEFAULT }))
      .query(async ({ ctx, input }) => {
        const items = await listQuarantine(deps.db, {
          organizationId: ctx.user.organizationId,
          deviceId: input.deviceId,
          beforeId: input.cursor === undefined ? undefined : Number(input.cursor),
          limit: input.limit,
          previewChars: PAYLOAD_PREVIEW_CHARS,
        });
        const last = items.at(-1);
        return {
          items,
          nextCursor: items.length === input.limit && last ? String(last.id) : null,
          /** How long records stay listed (INGEST_QUARANTINE_RETENTION_DAYS), for the page to say. */
          retentionDays: deps.env.INGEST_QUARANTINE_RETENTION_DAYS,
        };
      }),
  });
}
