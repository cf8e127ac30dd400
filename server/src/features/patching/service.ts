import type { InventoryReport, InventoryReportAck, PatchResult, PatchSpec, PatchWorkItem } from '@ninjait/shared';
import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { TargetWork, WorkQueue } from '../../stores/queue/types.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { applyInventoryReport, complianceRows, findPackage, listUpdates, lockInventoryState, type SoftwareChange, type UpdateRow } from './inventory-repository.ts';
import {
  appendProgress, approvedNames, deployableDevices, deviceIsLive, devicesWithOpenDeployments, getDeployment,
  enqueuedDeployments, expireDeployments, insertDeployment, moveDeployment, promoteDue, readyFor,
} from './patch-repository.ts';
import { autoApproveOrganizations } from './policy-repository.ts';
import { effectivePolicies, type ResolveScopes } from './policy-scope.ts';
import { isApproved, nextWindow } from './policy.ts';
import { compareVersions, ecosystemOf } from './versions.ts';

const RETRY_BACKOFF_MS = 30_000;
const PROMOTE_BATCH = 500;
const COMPLIANCE_TTL_SEC = 10 * 60;

export interface PatchingOptions {
  db: RelationalStore;
  cache: CacheStore;
  analytics: AnalyticsStore;
  queue: WorkQueue;
  log: Logger;
  /** Deployments of one organization on the queue or running at once. */
  perOrganizationConcurrency: number;
  retryBackoffMs?: number;
  /** Which devices are in a site, group or tag: the fleet's resolveScopes. */
  resolveScopes: ResolveScopes;
}

export interface DeployInput {
  deviceIds?: string[] | undefined;
  /** Only updates with these names (any device); none: every approved pending update. */
  names?: string[] | undefined;
  /** `now`: start at once (a person asked); `window`: the policy's next maintenance window. */
  schedule: 'now' | 'window';
  retries: number;
}

const complianceKey = (organizationId: string) => `patch-compliance:${organizationId}`;

/**
 * Software inventory and patch deployment: stores agents' reports, answers fleet questions,
 * turns approved updates into `deploy-patch` work on the `patch-deployment` queue, and offers
 * each to its device when due; the agent installs and reports per patch.
 */
export function createPatchingService(options: PatchingOptions) {
  const { db, cache, analytics, queue, log } = options;

  async function recordChanges(device: { deviceId: string; organizationId: string }, hash: string, changes: SoftwareChange[]) {
    if (changes.length === 0) return;
    const timestamp = Math.floor(Date.now() / 1000);
    // History is best effort: the current state (PostgreSQL) is what decisions read.
    await analytics.insert('software_changes', changes.map((change) => ({
      organization_id: device.organizationId, device_id: device.deviceId, timestamp, ...change,
    })), { dedupToken: `${device.deviceId}:${hash}` }).catch((err: unknown) => log.warn({ err, deviceId: device.deviceId }, 'could not record software changes'));
  }

  async function report(device: { deviceId: string; organizationId: string }, input: InventoryReport): Promise<InventoryReportAck> {
    const outcome = await db.transaction(async (tx) => {
      const held = await lockInventoryState(tx, device.deviceId);
      // A replay of the report already applied (its ack was lost) changes nothing.
      if (held === input.hash) return [];
      if (input.baseHash !== null && input.baseHash !== held) return null;
      return applyInventoryReport(tx, device, input);
    });
    if (outcome === null) return { accepted: false, needFull: true };
    await recordChanges(device, input.hash, outcome);
    if (outcome.some((change) => change.kind !== 'service')) await cache.del([complianceKey(device.organizationId)]).catch(() => undefined);
    return { accepted: true, hash: input.hash };
  }

  /** Devices of the organization whose installed `name` is older than `version` (each ecosystem's order). */
  async function olderThan(organizationId: string, name: string, version: string | null) {
    const rows = await findPackage(db, organizationId, name);
    return rows.filter((row) => version === null || compareVersions(ecosystemOf(row.source), row.version, version) < 0);
  }

  /** Pending updates with whether each is approved now, under the policy its device is under (and that policy's name). */
  async function updatesWithApproval(organizationId: string, deviceId: string | null) {
    const [updates, names] = await Promise.all([listUpdates(db, organizationId, deviceId), approvedNames(db, organizationId)]);
    const policies = await effectivePolicies(db, options.resolveScopes, organizationId, [...new Set(updates.map((update) => update.deviceId))]);
    const now = new Date();
    return updates.map((update) => {
      const effective = policies.get(update.deviceId)!;
      return { ...update, approved: isApproved(update, effective.policy, names, now), policyName: effective.source?.name ?? null };
    });
  }

  /**
   * Deployments of approved (or named) updates, each device under its own policy: its approval
   * rules and its maintenance window. `autoOnly`: only devices whose policy auto-approves.
   */
  async function createDeployments(organizationId: string, label: string, input: DeployInput, only: { autoOnly?: boolean; skipDevices?: Set<string> } = {}) {
    const devices = await deployableDevices(db, organizationId, input.deviceIds ?? null);
    if (input.deviceIds && devices.length !== new Set(input.deviceIds).size) throw notFound('Device');
    const policies = await effectivePolicies(db, options.resolveScopes, organizationId, devices);
    const names = input.names ? new Set(input.names.map((name) => name.toLowerCase())) : null;
    const approved = await approvedNames(db, organizationId);
    const now = new Date();
    const pending = await listUpdates(db, organizationId, null);
    const byDevice = new Map<string, UpdateRow[]>();
    for (const update of pending) {
      const policy = policies.get(update.deviceId)?.policy;
      if (!policy || (only.autoOnly && !policy.autoApprove)) continue;
      const wanted = names ? names.has(update.name.toLowerCase()) : isApproved(update, policy, approved, now);
      if (!wanted) continue;
      const list = byDevice.get(update.deviceId);
      if (list) list.push(update);
      else byDevice.set(update.deviceId, [update]);
    }
    const immediate = nextWindow({ windowCron: null, windowTz: 'UTC', windowDurationMin: 1 }, now);
    const created: string[] = [];
    for (const deviceId of devices) {
      const updates = byDevice.get(deviceId);
      if (!updates || only.skipDevices?.has(deviceId)) continue;
      const window = input.schedule === 'now' ? immediate : nextWindow(policies.get(deviceId)!.policy, now);
      // One package manager run per source: apt and (say) a Windows update never share a run.
      const bySource = new Map<string, PatchSpec[]>();
      for (const update of updates.slice(0, 500)) {
        bySource.set(update.source, [...(bySource.get(update.source) ?? []), {
          key: update.key, name: update.name, version: update.availableVersion, source: update.source as PatchSpec['source'],
        }]);
      }
      for (const patches of bySource.values()) {
        created.push(await insertDeployment(db, {
          organizationId, deviceId, patches, notBefore: window.start, windowEndsAt: window.end, maxAttempts: input.retries + 1, label,
        }));
      }
    }
    return created;
  }

  /** Enqueues due deployments within each organization's concurrency, and re-adds those the queue may have lost. */
  async function tick() {
    const expired = await expireDeployments(db);
    if (expired.length > 0) log.warn({ deployments: expired }, 'patch deployments failed: the maintenance window closed first');
    const due = await db.transaction((tx) => promoteDue(tx, options.perOrganizationConcurrency, PROMOTE_BATCH));
    const again = await enqueuedDeployments(db, PROMOTE_BATCH);
    const seen = new Set<string>();
    for (const row of [...due, ...again]) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      // Queue-level retries cover a handler that failed (database away); the device's failures are retried by schedule.
      await queue.add({ kind: 'deploy-patch', jobId: row.id, deviceId: row.deviceId, patchIds: row.patches.map((patch) => patch.key), round: row.attempts + 1 },
        { attempts: 5, backoffMs: 1_000 });
    }
  }

  /** Devices under an auto-approving policy get their approved updates scheduled into their policy's next window. */
  async function autoApprove() {
    for (const organizationId of await autoApproveOrganizations(db)) {
      const busy = await devicesWithOpenDeployments(db, organizationId);
      const created = await createDeployments(organizationId, 'auto-approval', { schedule: 'window', retries: 2 }, { autoOnly: true, skipDevices: busy });
      if (created.length > 0) log.info({ organizationId, deployments: created.length }, 'auto-approved updates scheduled');
    }
  }

  /**
   * The `deploy-patch` handler: offers the deployment to its device (the agent polls for offers),
   * counting the try in PostgreSQL so tries stay bounded across restarts. The device's result,
   * or the window closing (see `expire`), finishes it; a failed try with tries left is scheduled
   * again after a backoff that doubles per try.
   */
  async function handle(work: TargetWork): Promise<void> {
    const deployment = await getDeployment(db, work.jobId);
    if (!deployment || deployment.status !== 'enqueued') return;
    if (!(await deviceIsLive(db, deployment.deviceId))) {
      await moveDeployment(db, deployment.id, ['enqueued'], 'failed', { error: 'The device was decommissioned' });
    } else if (deployment.attempts >= deployment.maxAttempts) {
      await moveDeployment(db, deployment.id, ['enqueued'], 'failed', { error: `Gave up after ${deployment.attempts} tries` });
    } else {
      await moveDeployment(db, deployment.id, ['enqueued'], 'ready', { bumpAttempt: true });
    }
  }

  const agent = {
    /** Offered deployments, each with the reboot policy of the policy the device is under when offered (a change after scheduling applies). */
    async work(deviceId: string): Promise<PatchWorkItem[]> {
      const rows = await readyFor(db, deviceId);
      if (rows.length === 0) return [];
      const { policy } = (await effectivePolicies(db, options.resolveScopes, rows[0]!.organizationId, [deviceId])).get(deviceId)!;
      return rows.map((row) => ({ id: row.id, patches: row.patches, reboot: { policy: policy.reboot, noticeMin: policy.rebootNoticeMin } }));
    },
    /** The device claims a deployment; only one claim wins (a second agent start, a replay). */
    async started(deviceId: string, deploymentId: string) {
      return { run: await moveDeployment(db, deploymentId, ['ready'], 'running', { deviceId }) };
    },
    progress: (deviceId: string, deploymentId: string, lines: string[]) => appendProgress(db, deploymentId, deviceId, `${lines.join('\n')}\n`),
    async result(deviceId: string, deploymentId: string, results: PatchResult[]) {
      const deployment = await getDeployment(db, deploymentId);
      if (!deployment || deployment.deviceId !== deviceId) throw notFound('Deployment');
      const failed = results.filter((result) => result.status === 'failed');
      const error = failed.length > 0 ? failed.map((result) => `${result.key}: code ${result.code ?? '?'}`).join('; ').slice(0, 2_000) : null;
      const retry = failed.length > 0 && deployment.attempts < deployment.maxAttempts;
      const backoffMs = (options.retryBackoffMs ?? RETRY_BACKOFF_MS) * 2 ** Math.max(0, deployment.attempts - 1);
      await moveDeployment(db, deploymentId, ['running'], failed.length === 0 ? 'succeeded' : retry ? 'scheduled' : 'failed',
        { results, error, deviceId, ...(retry ? { notBefore: new Date(Date.now() + backoffMs) } : {}) });
      await cache.del([complianceKey(deployment.organizationId)]).catch(() => undefined);
      return { ok: true as const };
    },
  };

  return {
    report,
    olderThan,
    updatesWithApproval,
    handle,
    tick,
    autoApprove,
    agent,

    async deploy(organizationId: string, label: string, input: DeployInput) {
      // Nothing approved or matching is an answer (no deployments), not an error: "deploy what is approved" may find nothing.
      const created = await createDeployments(organizationId, label, input);
      if (created.length > 0) await tick();
      return { deployments: created };
    },

    /** Which policy a device is under, and why (the console's device page, `ninjait patches policy --device`). */
    async effectivePolicy(organizationId: string, deviceId: string) {
      return (await effectivePolicies(db, options.resolveScopes, organizationId, [deviceId])).get(deviceId)!;
    },

    async cancel(organizationId: string, id: string) {
      const deployment = await getDeployment(db, id, organizationId);
      if (!deployment) throw notFound('Deployment');
      const moved = await moveDeployment(db, id, ['scheduled', 'enqueued', 'ready'], 'cancelled', { error: 'Cancelled', deviceId: deployment.deviceId });
      if (!moved) throw new AppError('CONFLICT', `The deployment is ${deployment.status}; only one not started yet can be cancelled`);
    },

    /** % of devices fully patched, missing security/critical updates by age; cached, dropped when reports change. */
    async compliance(organizationId: string) {
      const cached = await cache.get(complianceKey(organizationId)).catch(() => null);
      if (cached) return JSON.parse(cached) as ComplianceReport;
      const rows = await complianceRows(db, organizationId);
      const now = Date.now();
      const ageDays = (at: Date | null) => (at ? Math.floor((now - new Date(at).getTime()) / 86_400_000) : null);
      const reported = rows.filter((row) => row.reported);
      const patched = reported.filter((row) => row.pending === 0);
      const missing = reported.filter((row) => row.security > 0).map((row) => ({ ...row, oldestSecurityDays: ageDays(row.oldestSecurity) }));
      const report: ComplianceReport = {
        generatedAt: new Date(now).toISOString(),
        devices: rows.length,
        reporting: reported.length,
        fullyPatched: patched.length,
        percentPatched: reported.length === 0 ? 100 : Math.round((patched.length / reported.length) * 1000) / 10,
        rebootPending: reported.filter((row) => row.rebootPending).length,
        missingSecurityByAge: {
          under7Days: missing.filter((row) => (row.oldestSecurityDays ?? 0) < 7).length,
          from7To30Days: missing.filter((row) => (row.oldestSecurityDays ?? 0) >= 7 && (row.oldestSecurityDays ?? 0) <= 30).length,
          over30Days: missing.filter((row) => (row.oldestSecurityDays ?? 0) > 30).length,
        },
        perDevice: rows.map((row) => ({ deviceId: row.deviceId, deviceName: row.deviceName, reported: row.reported, pending: row.pending,
          security: row.security, oldestSecurityDays: ageDays(row.oldestSecurity), rebootPending: row.rebootPending })),
      };
      await cache.set(complianceKey(organizationId), JSON.stringify(report), COMPLIANCE_TTL_SEC).catch(() => undefined);
      return report;
    },
  };
}
export type PatchingService = ReturnType<typeof createPatchingService>;

export interface ComplianceReport {
  generatedAt: string;
  devices: number;
  reporting: number;
  fullyPatched: number;
  percentPatched: number;
  rebootPending: number;
  missingSecurityByAge: { under7Days: number; from7To30Days: number; over30Days: number };
  perDevice: Array<{ deviceId: string; deviceName: string; reported: boolean; pending: number; security: number; oldestSecurityDays: number | null; rebootPending: boolean }>;
}
