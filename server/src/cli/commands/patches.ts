import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait patches --org ORG | --device ID [--json]
       ninjait patches deploy (--org ORG | --device ID) [--name PACKAGE ...] [--now] [--retries N] [--json]
       ninjait patches policy --org ORG [--device ID] [--json]
       ninjait patches policy set --org ORG [--scope SCOPE] [--exclude DEVICE ...] [policy options] [--json]
       ninjait patches policy remove --org ORG --scope SCOPE

Without a subcommand: the pending operating-system updates (approved or not), the organization's
patch compliance and the latest deployments.

deploy: installs updates on the organization's devices (or one device): the named packages, or
every update the patch policy approves. They run in the policy's next maintenance window, or at
once with --now; each device reports a result per package.

policy: the organization's patch policies, one per scope, and with --device the one that device
is under. SCOPE is organization (the default), site:NAME, group:NAME or tag:NAME; a device takes
the most specific policy that reaches it and does not exclude it: tag, then group, then site, then
the organization (two tags with policies: the older policy). \`set\` creates the scope's policy or
replaces it whole (options left out take their defaults); --exclude DEVICE (name or id, repeatable)
leaves a device to the next policy down.
Policy options:
  --policy-name NAME         a name for the policy
  --classification CLASS     approve updates of this class (security, critical, bugfix, feature, other; repeatable)
  --severity SEVERITY        approve updates of this severity (critical, important, moderate, low, unspecified; repeatable)
  --approve-pattern GLOB     approve packages whose name matches (* and ?; repeatable)
  --exclude-pattern GLOB     never approve packages whose name matches (repeatable)
  --auto-approve             deploy approved updates in the window without anyone asking
  --deferral-days N          approve by rule only once an update has been pending N days
  --window CRON              maintenance window start, five-field cron (e.g. "0 2 * * 6")
  --window-tz ZONE           the window's IANA time zone (default UTC)
  --window-minutes N         the window's length (default 120)
  --reboot POLICY            never, if_required (default) or always
  --reboot-notice N          minutes of notice for a logged-in user before a restart (default 15)
${CLIENT_USAGE}`;

const options = {
  ...clientOptions,
  org: { type: 'string' }, device: { type: 'string' }, name: { type: 'string', multiple: true }, now: { type: 'boolean' }, retries: { type: 'string' },
  scope: { type: 'string' }, exclude: { type: 'string', multiple: true }, 'policy-name': { type: 'string' },
  classification: { type: 'string', multiple: true }, severity: { type: 'string', multiple: true },
  'approve-pattern': { type: 'string', multiple: true }, 'exclude-pattern': { type: 'string', multiple: true }, 'auto-approve': { type: 'boolean' },
  'deferral-days': { type: 'string' }, window: { type: 'string' }, 'window-tz': { type: 'string' }, 'window-minutes': { type: 'string' },
  reboot: { type: 'string' }, 'reboot-notice': { type: 'string' },
} as const;

type Values = ReturnType<typeof parse<typeof options>>['values'];

/** A whole number option, or a usage error naming it. */
function integer(values: Values, name: 'deferral-days' | 'window-minutes' | 'reboot-notice'): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) throw new UsageError(`--${name} takes a whole number.\n${usage}`);
  return value;
}

/** The policy the options describe; the server checks every field (and names a wrong one). */
function policyOf(values: Values) {
  const fields = {
    name: values['policy-name'], approveClassifications: values.classification, approveSeverities: values.severity,
    approveNamePatterns: values['approve-pattern'], excludeNamePatterns: values['exclude-pattern'], autoApprove: values['auto-approve'],
    deferralDays: integer(values, 'deferral-days'), windowCron: values.window, windowTz: values['window-tz'], windowDurationMin: integer(values, 'window-minutes'),
    reboot: values.reboot, rebootNoticeMin: integer(values, 'reboot-notice'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as never;
}

async function policyCommand(values: Values, action: string | undefined): Promise<void> {
  if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
  const client = await localAdminClient(values);
  if (action === 'set') {
    const saved = await client.admin.patching.policies.set.mutate({ org: values.org, scope: values.scope ?? 'organization', exclude: values.exclude ?? [], policy: policyOf(values) });
    process.stdout.write(values.json ? `${JSON.stringify(saved)}\n` : `Policy "${saved.name}" saved for ${values.scope ?? 'organization'} (${saved.id}).\n`);
    return;
  }
  if (action === 'remove') {
    if (!values.scope) throw new UsageError(`--scope is required.\n${usage}`);
    await client.admin.patching.policies.remove.mutate({ org: values.org, scope: values.scope });
    process.stdout.write(values.json ? '{"ok":true}\n' : `Policy for ${values.scope} removed.\n`);
    return;
  }
  const { policies, effective } = await client.admin.patching.policies.list.query({ org: values.org, ...(values.device ? { device: values.device } : {}) });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ policies, effective })}\n`);
    return;
  }
  printTable(policies.map((p) => ({ id: p.id, scope: p.scopeValue ? `${p.scopeKind}:${p.scopeValue}` : p.scopeKind, name: p.name,
    approves: [...p.approveClassifications, ...p.approveSeverities, ...p.approveNamePatterns].join(' ') || '-', auto: p.autoApprove ? 'yes' : 'no',
    window: p.windowCron ? `${p.windowCron} ${p.windowTz} ${p.windowDurationMin}m` : '-', reboot: p.reboot, excluded: String(p.excludedDeviceIds.length) })),
  ['id', 'scope', 'name', 'approves', 'auto', 'window', 'reboot', 'excluded']);
  if (effective) {
    process.stdout.write(`\nDevice ${values.device} is under ${effective.source ? `"${effective.source.name}" (${effective.source.scopeKind})` : 'the built-in defaults (no policy reaches it)'}.\n`);
  }
}

export const patchesCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, usage, true);
    const [sub, ...extra] = positionals;
    if (sub === 'policy' && extra.length <= 1 && (extra[0] === undefined || extra[0] === 'set' || extra[0] === 'remove')) return policyCommand(values, extra[0]);
    if (extra.length > 0 || (sub !== undefined && sub !== 'deploy')) throw new UsageError(`Unknown arguments: ${positionals.join(' ')}\n${usage}`);
    if (!values.org && !values.device) throw new UsageError(`--org or --device is required.\n${usage}`);
    const client = await localAdminClient(values);
    const ref = { ...(values.org ? { org: values.org } : {}), ...(values.device ? { device: values.device } : {}) };
    if (sub === 'deploy') {
      const retries = values.retries === undefined ? 2 : Number(values.retries);
      if (!Number.isInteger(retries) || retries < 0 || retries > 5) throw new UsageError(`--retries takes a number from 0 to 5.\n${usage}`);
      const result = await client.admin.patching.deploy.mutate({ ...ref, names: values.name, schedule: values.now ? 'now' : 'window', retries });
      if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`${result.deployments.length} deployment(s) created; follow them with: ninjait patches ${values.org ? `--org ${values.org}` : `--device ${values.device}`}\n`);
      return;
    }
    const { updates, compliance, deployments } = await client.admin.patching.pending.query(ref);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ updates, compliance, deployments })}\n`);
      return;
    }
    process.stdout.write(`Compliance: ${compliance.fullyPatched} of ${compliance.reporting} reporting device(s) fully patched (${compliance.percentPatched}%), `
      + `${compliance.missingSecurityByAge.over30Days} missing security updates for over 30 days, ${compliance.rebootPending} waiting for a reboot.\n\n`);
    printTable(updates.map((update) => ({ device: update.deviceId, name: update.name, from: update.currentVersion || '-', to: update.availableVersion,
      class: update.classification, severity: update.severity, approved: update.approved ? 'yes' : 'no' })), ['device', 'name', 'from', 'to', 'class', 'severity', 'approved']);
    if (deployments.length > 0) {
      process.stdout.write('\nLatest deployments:\n');
      printTable(deployments.map((d) => ({ id: d.id, device: d.deviceName ?? d.deviceId, status: d.status, patches: d.patches.map((p) => p.name).join(' '),
        notBefore: d.notBefore, error: d.error ?? '' })), ['id', 'device', 'status', 'patches', 'notBefore', 'error']);
    }
  },
};
