import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { AppError } from '../../platform/errors.ts';
import { assertScript, WINDOWS_OS_TYPES, type Auditor, type CommandService, type Interpreter, type Requester, type Shell } from '../commands/index.ts';
import type { BulkJobService, TargetPage } from '../bulk-jobs/index.ts';
import { checkScope, jobTargetIds } from '../fleet/index.ts';
import type { CheckRequest, RemediationDue } from '../alerts/index.ts';
import { nextRun } from './cron.ts';
import { parameterEnv } from './parameters.ts';
import * as repo from './repository.ts';
import type { Language, ParameterValues, RunTarget, ScheduleFields, ScriptFields, TargetOs } from './schemas.ts';
import type { z } from 'zod';
import type { scriptChanges } from './schemas.ts';

const DEFAULT_TIMEOUT_SEC = 300;
/** How long a run waits for an offline device. */
const EXPIRES_IN_SEC = 3_600;
const DUE_BATCH = 50;

/** How each language runs: PowerShell as the shell, Python through the interpreter, shell scripts in sh. */
const RUN_AS: Record<Language, { shell?: Shell; interpreter?: Interpreter }> = {
  shell: { shell: 'sh' },
  powershell: { shell: 'powershell' },
  python: { interpreter: 'python3' },
};

/** The OS a device reports, as a script's target list names it. */
export function targetOsOf(osType: string | null): TargetOs | null {
  if (!osType) return null;
  const os = osType.toLowerCase();
  if (WINDOWS_OS_TYPES.includes(os)) return 'windows';
  return os === 'darwin' || os === 'macos' ? 'macos' : 'linux';
}

export interface RunRequest {
  target: RunTarget;
  parameters: ParameterValues;
  timeoutSec?: number | undefined;
  concurrency?: number | undefined;
}

type Who = Requester & { organizationId: string; userId: string | null };

/**
 * The script library: saved scripts with typed parameters and versions, runs through bulk jobs
 * (one command per device, the parameters as environment variables), schedules, and the
 * remediation an alert rule names. Every create, edit and run is audited.
 */
export function createScriptService(deps: { db: RelationalStore; commands: CommandService; jobs: BulkJobService; audit: Auditor; log: Logger }) {
  const { db, jobs, log } = deps;
  const record = (who: Who, action: string, resourceId: string, details: Record<string, unknown>) => deps.audit(who.ip, {
    action, resourceId, organizationId: who.organizationId, ...(who.userId ? { userId: who.userId } : {}), details: { requestedBy: who.label, ...details },
  });

  /** The approved devices of a target that the script is for; typed errors for an empty or foreign target. */
  async function resolveTarget(organizationId: string, target: RunTarget, targetOs: readonly TargetOs[]): Promise<{ deviceIds: string[]; skipped: number }> {
    let ids: string[] | null = null;
    if (target.kind === 'devices') ids = target.deviceIds!;
    if (target.kind === 'site') ids = await jobTargetIds(db, organizationId, { siteId: target.id });
    if (target.kind === 'group') ids = await jobTargetIds(db, organizationId, { groupId: target.id });
    if (target.kind === 'tag') {
      await checkScope(db, organizationId, 'tag', target.id!);
      ids = await jobTargetIds(db, organizationId, { tagId: target.id });
    }
    const devices = ids && ids.length === 0 ? [] : await repo.targetDevices(db, organizationId, ids);
    if (target.kind === 'devices' && devices.length !== new Set(ids).size) throw new AppError('NOT_FOUND', 'Device not found (or not approved yet)');
    const fit = devices.filter((device) => { const os = targetOsOf(device.osType); return os !== null && targetOs.includes(os); });
    if (fit.length === 0) {
      throw new AppError('BAD_REQUEST', devices.length === 0 ? 'No approved device in that target' : `None of the target's devices runs ${targetOs.join(', ')}`);
    }
    return { deviceIds: fit.map((device) => device.id), skipped: devices.length - fit.length };
  }

  /** Starts a run of the script's current version as a bulk job; records and audits it. */
  async function start(who: Who, scriptId: string, request: RunRequest, trigger: 'manual' | 'schedule', scheduleId: string | null = null) {
    const script = await repo.getScript(db, who.organizationId, scriptId);
    const env = parameterEnv(script.parameters, request.parameters);
    const { deviceIds, skipped } = await resolveTarget(who.organizationId, request.target, script.targetOs);
    const job = await jobs.create(who, {
      name: `${script.name} (v${script.currentVersion})`.slice(0, 255), deviceIds, ...RUN_AS[script.language], script: script.body, env,
      timeoutSec: request.timeoutSec ?? DEFAULT_TIMEOUT_SEC, expiresInSec: EXPIRES_IN_SEC, concurrency: request.concurrency ?? 10, retries: 0,
    });
    const runId = await repo.insertRun(db, {
      organizationId: who.organizationId, scriptId, version: script.currentVersion, trigger, scheduleId, bulkJobId: job.id,
      parameters: request.parameters, requestedByLabel: who.label,
    });
    await record(who, 'script.run', scriptId, {
      runId, trigger, version: script.currentVersion, bulkJobId: job.id, devices: deviceIds.length, skippedOtherOs: skipped,
      target: request.target.kind, parameters: Object.keys(request.parameters), scheduleId,
    });
    return { runId, bulkJobId: job.id, version: script.currentVersion, devices: deviceIds.length, skippedOtherOs: skipped };
  }

  async function runDue(now = new Date()): Promise<number> {
    let started = 0;
    for (const schedule of await repo.dueSchedules(db, now, DUE_BATCH)) {
      let next: Date | null;
      try {
        next = nextRun(schedule.cron, schedule.timezone, now);
      } catch {
        next = null; // Stored valid; a zone the runtime dropped since: the schedule stops rather than spins.
      }
      if (!(await repo.advanceSchedule(db, schedule.id, schedule.nextRunAt!, next ?? new Date('9999-01-01T00:00:00Z')))) continue;
      const who: Who = { userId: schedule.createdBy, label: `${schedule.createdByLabel} (schedule ${schedule.name})`, organizationId: schedule.organizationId, ip: null };
      const target: RunTarget = schedule.targetKind === 'devices' ? { kind: 'devices', deviceIds: schedule.deviceIds }
        : { kind: schedule.targetKind, ...(schedule.targetValue ? { id: schedule.targetValue } : {}) };
      try {
        await start(who, schedule.scriptId, { target, parameters: schedule.parameters }, 'schedule', schedule.id);
        started++;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        log.info({ scheduleId: schedule.id, err: error }, 'scheduled script run refused');
        const script = await repo.getScript(db, schedule.organizationId, schedule.scriptId);
        await repo.insertRun(db, {
          organizationId: schedule.organizationId, scriptId: schedule.scriptId, version: script.currentVersion, trigger: 'schedule',
          scheduleId: schedule.id, parameters: schedule.parameters, requestedByLabel: who.label, error: error.message,
        });
      }
    }
    return started;
  }

  return {
    list: (organizationId: string) => repo.listScripts(db, organizationId),
    async get(organizationId: string, id: string) {
      const script = await repo.getScript(db, organizationId, id);
      return { ...script, versions: await repo.listVersions(db, id) };
    },
    byName: (organizationId: string, name: string) => repo.findScriptByName(db, organizationId, name),

    async create(who: Who, fields: ScriptFields) {
      assertScript(fields.body);
      const id = await db.transaction(async (tx) => {
        const scriptId = await repo.insertScript(tx, who.organizationId, fields);
        await repo.insertVersion(tx, scriptId, 1, fields.body, fields.parameters, who);
        return scriptId;
      });
      await record(who, 'script.create', id, { name: fields.name, language: fields.language, targetOs: fields.targetOs, version: 1,
        parameters: fields.parameters.map((p) => p.name), bodyBytes: Buffer.byteLength(fields.body), body: fields.body.slice(0, 4096) });
      return repo.getScript(db, who.organizationId, id);
    },

    /** An edit; a changed body or parameter list adds a version (old versions stay, and runs keep naming theirs). */
    async update(who: Who, { id, ...changes }: z.infer<typeof scriptChanges>) {
      if (changes.body !== undefined) assertScript(changes.body);
      const result = await db.transaction(async (tx) => {
        const current = await repo.getScript(tx, who.organizationId, id, true);
        const newVersion = (changes.body !== undefined && changes.body !== current.body)
          || (changes.parameters !== undefined && JSON.stringify(changes.parameters) !== JSON.stringify(current.parameters));
        const version = newVersion ? current.currentVersion + 1 : current.currentVersion;
        if (newVersion) await repo.insertVersion(tx, id, version, changes.body ?? current.body, changes.parameters ?? current.parameters, who);
        await repo.updateScriptRow(tx, who.organizationId, id, {
          name: changes.name ?? current.name, description: changes.description ?? current.description,
          targetOs: changes.targetOs ?? current.targetOs, currentVersion: version,
        });
        return { version, newVersion };
      });
      await record(who, 'script.update', id, { changed: Object.keys(changes), version: result.version, newVersion: result.newVersion,
        ...(changes.body !== undefined ? { bodyBytes: Buffer.byteLength(changes.body), body: changes.body.slice(0, 4096) } : {}) });
      return repo.getScript(db, who.organizationId, id);
    },

    run: (who: Who, scriptId: string, request: RunRequest) => start(who, scriptId, request, 'manual'),

    async listRuns(organizationId: string, scriptId: string | null, limit: number) {
      // Another organization's script is not found, like everywhere else, rather than an empty list.
      if (scriptId) await repo.getScript(db, organizationId, scriptId);
      return repo.listRuns(db, organizationId, scriptId, limit);
    },
    /** A run with a page of its per-device results (the bulk job's targets), or the remediation's one command. */
    async getRun(organizationId: string, id: string, page?: TargetPage) {
      const run = await repo.getRun(db, organizationId, id);
      if (run.bulkJobId) {
        const job = await jobs.status(organizationId, run.bulkJobId, page);
        return { ...run, counts: job.counts, progress: job.progress, results: job.targets };
      }
      const outcome = run.commandId ? await repo.commandOutcome(db, run.commandId) : null;
      return { ...run, results: outcome ? [{ ...outcome, commandId: run.commandId }] : [] };
    },

    async createSchedule(who: Who, fields: ScheduleFields) {
      const script = await repo.getScript(db, who.organizationId, fields.scriptId);
      const nextRunAt = nextRun(fields.cron, fields.timezone, new Date());
      parameterEnv(script.parameters, fields.parameters);
      await resolveTarget(who.organizationId, fields.target, script.targetOs);
      const id = await repo.insertSchedule(db, {
        organizationId: who.organizationId, scriptId: script.id, name: fields.name, cron: fields.cron, timezone: fields.timezone,
        targetKind: fields.target.kind, targetValue: fields.target.id ?? null, deviceIds: fields.target.deviceIds ?? [],
        parameters: fields.parameters, enabled: fields.enabled, nextRunAt: fields.enabled ? nextRunAt : null,
        createdBy: who.userId, createdByLabel: who.label,
      });
      await record(who, 'script.schedule_create', id, { scriptId: script.id, name: fields.name, cron: fields.cron, timezone: fields.timezone, target: fields.target.kind });
      return repo.getSchedule(db, who.organizationId, id);
    },
    async listSchedules(organizationId: string, scriptId: string | null) {
      if (scriptId) await repo.getScript(db, organizationId, scriptId);
      return repo.listSchedules(db, organizationId, scriptId);
    },
    async setScheduleEnabled(who: Who, id: string, enabled: boolean) {
      const schedule = await repo.getSchedule(db, who.organizationId, id);
      await repo.setScheduleState(db, who.organizationId, id, enabled, enabled ? nextRun(schedule.cron, schedule.timezone, new Date()) : null);
      await record(who, enabled ? 'script.schedule_enable' : 'script.schedule_disable', id, { name: schedule.name });
      return repo.getSchedule(db, who.organizationId, id);
    },
    async deleteSchedule(who: Who, id: string) {
      const schedule = await repo.getSchedule(db, who.organizationId, id);
      await repo.deleteSchedule(db, who.organizationId, id);
      await record(who, 'script.schedule_delete', id, { name: schedule.name });
      return { id };
    },

    /** Starts every due schedule once (the scheduler calls this under a lease; the advance is a compare-and-set as well). */
    runDue,

    /**
     * Runs a rule's remediation script on the alert's device (the alerts' remediation action):
     * the current version with its parameters' defaults, as one command labelled `label`.
     */
    async remediate(alert: RemediationDue, label: string): Promise<{ commandId: string }> {
      const script = await repo.getScript(db, alert.organizationId, alert.scriptId);
      const env = parameterEnv(script.parameters, {});
      const [device] = await repo.targetDevices(db, alert.organizationId, [alert.deviceId]);
      const os = device ? targetOsOf(device.osType) : null;
      if (!device) throw new AppError('CONFLICT', 'The device is not approved or no longer enrolled');
      if (!os || !script.targetOs.includes(os)) throw new AppError('BAD_REQUEST', `The script "${script.name}" is for ${script.targetOs.join(', ')}, not this device`);
      const who: Who = { userId: null, label, organizationId: alert.organizationId, ip: null };
      const command = await deps.commands.run(who, {
        deviceId: alert.deviceId, ...RUN_AS[script.language], script: script.body, env, timeoutSec: DEFAULT_TIMEOUT_SEC, expiresInSec: EXPIRES_IN_SEC,
      });
      const runId = await repo.insertRun(db, {
        organizationId: alert.organizationId, scriptId: script.id, version: script.currentVersion, trigger: 'remediation',
        commandId: command.id, alertId: alert.id, parameters: {}, requestedByLabel: `${label} (rule ${alert.ruleName})`,
      });
      await record(who, 'script.run', script.id, { runId, trigger: 'remediation', version: script.currentVersion, alertId: alert.id, commandId: command.id, deviceId: alert.deviceId });
      return { commandId: command.id };
    },

    /**
     * Runs an alert rule's script check on one device: the current version with its parameters'
     * defaults, as one command (the run path remediation takes), recorded as a `check` run. The
     * command audits itself (`command.run`, labelled with the rule); no second `script.run` entry
     * per check, which on a fleet checked every few minutes would double the log's growth.
     */
    async check(request: CheckRequest): Promise<{ commandId: string }> {
      const script = await repo.getScript(db, request.organizationId, request.scriptId);
      const env = parameterEnv(script.parameters, {});
      const [device] = await repo.targetDevices(db, request.organizationId, [request.deviceId]);
      const os = device ? targetOsOf(device.osType) : null;
      if (!device) throw new AppError('CONFLICT', 'The device is not approved or no longer enrolled');
      if (!os || !script.targetOs.includes(os)) throw new AppError('BAD_REQUEST', `The script "${script.name}" is for ${script.targetOs.join(', ')}, not this device`);
      const label = `script check of rule ${request.ruleName}`.slice(0, 320);
      const command = await deps.commands.run({ userId: null, label, organizationId: request.organizationId, ip: null }, {
        deviceId: request.deviceId, ...RUN_AS[script.language], script: script.body, env, timeoutSec: request.timeoutSec, expiresInSec: request.expiresInSec,
      });
      await repo.insertRun(db, {
        organizationId: request.organizationId, scriptId: script.id, version: script.currentVersion, trigger: 'check',
        commandId: command.id, parameters: {}, requestedByLabel: label,
      });
      return { commandId: command.id };
    },
  };
}
export type ScriptService = ReturnType<typeof createScriptService>;
