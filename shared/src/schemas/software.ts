import { z } from 'zod';
import { boundedText, epochMs } from './bounds.ts';

/** Upper bound on software, services or updates one device reports (a big Windows box has ~3,000 packages). */
export const MAX_INVENTORY_ITEMS = 20_000;
/** Upper bound on patches in one deployment. */
export const MAX_PATCHES_PER_DEPLOYMENT = 500;

/** Where an installed package came from: decides how its versions compare. */
export const SOFTWARE_SOURCES = ['dpkg', 'rpm', 'registry', 'appx', 'macos-app', 'pkgutil', 'other'] as const;
export type SoftwareSource = (typeof SOFTWARE_SOURCES)[number];

export const UPDATE_SOURCES = ['apt', 'dnf', 'yum', 'zypper', 'windows-update', 'softwareupdate'] as const;
export type UpdateSource = (typeof UPDATE_SOURCES)[number];

/** Coarse classes every OS maps onto; approval rules use these. */
export const UPDATE_CLASSIFICATIONS = ['security', 'critical', 'bugfix', 'feature', 'other'] as const;
export type UpdateClassification = (typeof UPDATE_CLASSIFICATIONS)[number];
export const UPDATE_SEVERITIES = ['critical', 'important', 'moderate', 'low', 'unspecified'] as const;
export type UpdateSeverity = (typeof UPDATE_SEVERITIES)[number];

const key = boundedText(600);

export const softwareItemSchema = z.object({
  /** Stable identity within the device: source, name and architecture. */
  key,
  name: boundedText(256),
  version: boundedText(128),
  arch: boundedText(32),
  publisher: boundedText(256),
  source: z.enum(SOFTWARE_SOURCES),
  installedAtMs: epochMs().nullable(),
}).strict();
export type SoftwareItem = z.infer<typeof softwareItemSchema>;

export const serviceItemSchema = z.object({
  key,
  name: boundedText(256),
  displayName: boundedText(512),
  /** running, stopped, failed, … as the OS says it, lower-cased. */
  state: boundedText(32),
  /** enabled / disabled / manual / auto / static … */
  startMode: boundedText(32),
}).strict();
export type ServiceItem = z.infer<typeof serviceItemSchema>;

export const pendingUpdateSchema = z.object({
  key,
  name: boundedText(256),
  currentVersion: boundedText(128),
  availableVersion: boundedText(128),
  source: z.enum(UPDATE_SOURCES),
  classification: z.enum(UPDATE_CLASSIFICATIONS),
  severity: z.enum(UPDATE_SEVERITIES),
  /** Where it comes from (apt origin/suite, KB number, catalog): shown, not interpreted. */
  detail: boundedText(512),
}).strict();
export type PendingUpdate = z.infer<typeof pendingUpdateSchema>;

const section = <T extends z.ZodType>(item: T) => z.object({
  upsert: z.array(item).max(MAX_INVENTORY_ITEMS),
  remove: z.array(key).max(MAX_INVENTORY_ITEMS),
}).strict();

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * One inventory report: the whole snapshot (`baseHash` null) or the changes since the snapshot
 * the server acked as `baseHash`. `hash` names the snapshot after applying it.
 */
export const inventoryReportSchema = z.object({
  baseHash: sha256Hex.nullable(),
  hash: sha256Hex,
  software: section(softwareItemSchema),
  services: section(serviceItemSchema),
  updates: section(pendingUpdateSchema),
  rebootPending: z.boolean(),
  lastPatchedAtMs: epochMs().nullable(),
  collectedAtMs: epochMs(),
}).strict();
export type InventoryReport = z.infer<typeof inventoryReportSchema>;

/** `needFull`: the server does not hold `baseHash` (new server, lost state): send everything. */
export type InventoryReportAck = { accepted: true; hash: string } | { accepted: false; needFull: true };

/** A patch the agent is asked to install: the package and the version it must reach at least. */
export const patchSpecSchema = z.object({
  key,
  name: z.string().min(1).max(256),
  version: boundedText(128),
  source: z.enum(UPDATE_SOURCES),
}).strict();
export type PatchSpec = z.infer<typeof patchSpecSchema>;

export const PATCH_RESULT_STATUSES = ['installed', 'failed', 'reboot_pending'] as const;
export const patchResultSchema = z.object({
  key,
  status: z.enum(PATCH_RESULT_STATUSES),
  /** The package manager's exit code when it failed. */
  code: z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1).nullable(),
  message: boundedText(2_000),
}).strict();
export type PatchResult = z.infer<typeof patchResultSchema>;

/** After a deployment: never restart (report the pending reboot only), restart when one is pending, or always. */
export const REBOOT_POLICIES = ['never', 'if_required', 'always'] as const;
export type RebootPolicy = (typeof REBOOT_POLICIES)[number];
/** Longest warning a logged-in user gets before the restart (one day). */
export const MAX_REBOOT_NOTICE_MIN = 1_440;

/** What the agent does about a restart once a deployment's patches are in. */
export const rebootPlanSchema = z.object({
  policy: z.enum(REBOOT_POLICIES),
  /** Minutes between announcing the restart to logged-in users and the restart itself. */
  noticeMin: z.number().int().min(0).max(MAX_REBOOT_NOTICE_MIN),
}).strict();
export type RebootPlan = z.infer<typeof rebootPlanSchema>;

/**
 * A deployment offered to the agent. `reboot` came later: an older server leaves it out and the
 * agent then never restarts; an older agent ignores it (it reads `id` and `patches` only).
 */
export const patchWorkItemSchema = z.object({
  id: z.uuid(),
  patches: z.array(patchSpecSchema).min(1).max(MAX_PATCHES_PER_DEPLOYMENT),
  reboot: rebootPlanSchema.optional(),
});
export type PatchWorkItem = z.infer<typeof patchWorkItemSchema>;
