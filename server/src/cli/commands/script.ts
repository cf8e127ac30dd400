import { readFile } from 'node:fs/promises';
import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

/** Per-device results asked for per call (the server's largest page). */
const RESULT_PAGE = 1_000;

const usage = `
Usage: ninjait script create --org ORG --name NAME --language shell|powershell|python --os linux,macos,windows
                             (--file PATH | --body TEXT) [--param NAME:TYPE[:DEFAULT]]... [--description TEXT]
       ninjait script list --org ORG
       ninjait script run --org ORG <script> --as EMAIL [--target organization|site:NAME|group:NAME|tag:NAME | --device DEVICE...]
                          [--set NAME=VALUE]...
       ninjait script schedule --org ORG <script> --as EMAIL --name NAME --cron 'MIN HOUR DAY MONTH WEEKDAY' --tz ZONE
                          [--target ... | --device DEVICE...] [--set NAME=VALUE]...
       ninjait script schedules --org ORG
       ninjait script result --org ORG <run-id>

Saved scripts with typed parameters and versions. A run goes to the approved devices of the target
(default: the whole organization) that run one of the script's OSes; parameters reach the script as
environment variables NINJAIT_PARAM_<NAME> (never pasted into its text).
  --param NAME:TYPE[:DEFAULT]  a parameter: TYPE is string, number or boolean (repeat for several)
  --as EMAIL       the technician (or higher) of the organization the run acts for; a schedule stops
                   running when that person leaves or loses the role
  --cron, --tz     five-field cron, e.g. '0 3 * * 1-5', in an IANA time zone such as Europe/Berlin
${CLIENT_USAGE}`;

type ParamDef = { name: string; type: 'string'; default?: string } | { name: string; type: 'number'; default?: number } | { name: string; type: 'boolean'; default?: boolean };

function paramDefinition(text: string): ParamDef {
  const [name = '', type = '', ...rest] = text.split(':');
  const fallback = rest.length > 0 ? rest.join(':') : undefined;
  if (type === 'string') return { name, type, ...(fallback !== undefined ? { default: fallback } : {}) };
  if (type === 'number') {
    if (fallback !== undefined && !Number.isFinite(Number(fallback))) throw new UsageError(`--param ${name}: the default "${fallback}" is not a number.`);
    return { name, type, ...(fallback !== undefined ? { default: Number(fallback) } : {}) };
  }
  if (type === 'boolean') {
    if (fallback !== undefined && fallback !== 'true' && fallback !== 'false') throw new UsageError(`--param ${name}: the default is true or false.`);
    return { name, type, ...(fallback !== undefined ? { default: fallback === 'true' } : {}) };
  }
  throw new UsageError(`--param takes NAME:TYPE[:DEFAULT] with TYPE string, number or boolean, not "${text}".`);
}

function assignments(list: string[] | undefined): Record<string, string> {
  const values: Record<string, string> = {};
  for (const item of list ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--set takes NAME=VALUE, not "${item}".`);
    values[item.slice(0, at)] = item.slice(at + 1);
  }
  return values;
}

export const scriptCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, name: { type: 'string' }, language: { type: 'string' }, os: { type: 'string' },
      file: { type: 'string' }, body: { type: 'string' }, param: { type: 'string', multiple: true }, description: { type: 'string' },
      as: { type: 'string' }, target: { type: 'string' }, device: { type: 'string', multiple: true }, set: { type: 'string', multiple: true },
      cron: { type: 'string' }, tz: { type: 'string' },
    }, usage, true);
    const [action, ref] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    const out = (value: unknown, line: string) => process.stdout.write(values.json ? `${JSON.stringify(value)}\n` : `${line}\n`);
    const runTarget = { target: values.target, devices: values.device, parameters: assignments(values.set) };

    if (action === 'create') {
      if (!values.name || !values.language || !values.os) throw new UsageError(`--name, --language and --os are required.\n${usage}`);
      if (Boolean(values.file) === Boolean(values.body)) throw new UsageError('Give the script as --file PATH or --body TEXT (one of them).');
      const body = values.file ? await readFile(values.file, 'utf8') : values.body!;
      const script = await client.admin.scripts.create.mutate({
        org: values.org, name: values.name, language: values.language as 'shell', targetOs: values.os.split(',').map((os) => os.trim()) as ['linux'],
        body, parameters: (values.param ?? []).map(paramDefinition), description: values.description ?? '',
      });
      out(script, `Script "${script.name}" (${script.id}), version ${script.currentVersion}`);
    } else if (action === 'list') {
      const scripts = await client.admin.scripts.list.query({ org: values.org });
      if (values.json) out(scripts, '');
      else printTable(scripts.map((s) => ({ ...s, os: s.targetOs.join(','), version: s.currentVersion, parameters: s.parameters.map((p) => p.name).join(',') })), ['name', 'language', 'os', 'version', 'parameters']);
    } else if (action === 'run' && ref) {
      if (!values.as) throw new UsageError(`--as EMAIL is required: the person the run acts for.\n${usage}`);
      const run = await client.admin.scripts.run.mutate({ org: values.org, script: ref, as: values.as, ...runTarget });
      out(run, `Run ${run.runId} of version ${run.version} on ${run.devices} device(s)${run.skippedOtherOs ? ` (${run.skippedOtherOs} on another OS left out)` : ''}; see \`ninjait script result --org ${values.org} ${run.runId}\``);
    } else if (action === 'schedule' && ref) {
      if (!values.as || !values.name || !values.cron || !values.tz) throw new UsageError(`--as, --name, --cron and --tz are required.\n${usage}`);
      const schedule = await client.admin.scripts.schedule.mutate({
        org: values.org, script: ref, as: values.as, name: values.name, cron: values.cron, timezone: values.tz, ...runTarget,
      });
      out(schedule, `Schedule "${schedule.name}" (${schedule.id}): next run ${schedule.nextRunAt ? new Date(schedule.nextRunAt).toISOString() : 'never'}`);
    } else if (action === 'schedules') {
      const schedules = await client.admin.scripts.schedules.query({ org: values.org });
      if (values.json) out(schedules, '');
      else printTable(schedules.map((s) => ({ ...s, script: s.scriptName, next: s.nextRunAt ? new Date(s.nextRunAt).toISOString() : '-' })), ['name', 'script', 'cron', 'timezone', 'enabled', 'next']);
    } else if (action === 'result' && ref) {
      // Every device's result, a page at a time: the server answers at most RESULT_PAGE per call.
      const run = await client.admin.scripts.runResult.query({ org: values.org, id: ref, offset: 0, limit: RESULT_PAGE });
      const total = 'progress' in run && run.progress ? run.progress.total : run.results.length;
      while (run.results.length < total) {
        const next = await client.admin.scripts.runResult.query({ org: values.org, id: ref, offset: run.results.length, limit: RESULT_PAGE });
        if (next.results.length === 0) break;
        run.results = [...run.results, ...next.results] as typeof run.results;
      }
      if (values.json) out(run, '');
      else printTable((run.results as Record<string, unknown>[]), ['deviceName', 'status', 'exitCode', 'error']);
    } else {
      throw new UsageError(usage);
    }
  },
};
