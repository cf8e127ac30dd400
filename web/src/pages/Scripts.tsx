import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { dateTime } from '../lib/format.ts';
import { Card, Empty, ErrorNote, PageHeader, StatusBadge } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { roleAtLeast, type Me } from '../lib/auth.ts';

type Script = Outputs['scripts']['list'][number];
type Parameter = Script['parameters'][number];
type Run = Outputs['scripts']['runs']['list'][number];
type Schedule = Outputs['scripts']['schedules']['list'][number];
type TargetKind = 'organization' | 'site' | 'group' | 'tag' | 'devices';

const LANGUAGE_TEXT = { shell: 'Shell (sh)', powershell: 'PowerShell', python: 'Python 3' } as const;
const OS_LIST = ['linux', 'macos', 'windows'] as const;

/** Where to run: the whole organization, a site, a saved group, a tag, or one device. */
function TargetPicker({ kind, id, onChange }: { kind: TargetKind; id: string; onChange: (kind: TargetKind, id: string) => void }) {
  const sites = useQuery(trpc.fleet.sites.list.queryOptions());
  const groups = useQuery(trpc.fleet.groups.list.queryOptions());
  const tags = useQuery(trpc.fleet.tags.list.queryOptions());
  const devices = useQuery(trpc.devices.list.queryOptions({ limit: 200 }, { enabled: kind === 'devices' }));
  const options = kind === 'site' ? sites.data : kind === 'group' ? groups.data : kind === 'tag' ? tags.data
    : kind === 'devices' ? devices.data?.items : undefined;
  return (
    <div className="row wrap align-end">
      <label>Run on
        <select value={kind} onChange={(e) => onChange(e.target.value as TargetKind, '')}>
          <option value="organization">Every device</option>
          <option value="site">A site</option>
          <option value="group">A saved group</option>
          <option value="tag">Devices with a tag</option>
          <option value="devices">One device</option>
        </select>
      </label>
      {options ? (
        <label>Which
          <select required value={id} onChange={(e) => onChange(kind, e.target.value)}>
            <option value="">Choose…</option>
            {options.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
          </select>
        </label>
      ) : null}
    </div>
  );
}

const targetOf = (kind: TargetKind, id: string) =>
  kind === 'organization' ? { kind } : kind === 'devices' ? { kind, deviceIds: [id] } : { kind, id };

/** One input per parameter, typed; blank means "use the default". */
function ParameterInputs({ parameters, values, onChange }: { parameters: Parameter[]; values: Record<string, string>; onChange: (v: Record<string, string>) => void }) {
  if (parameters.length === 0) return <p className="muted">This script has no parameters.</p>;
  return (
    <div className="row wrap align-end">
      {parameters.map((p) => (
        <label key={p.name}>{p.label ?? p.name}{p.required ? ' (required)' : ''}
          {p.type === 'boolean' ? (
            <select value={values[p.name] ?? ''} onChange={(e) => onChange({ ...values, [p.name]: e.target.value })}>
              <option value="">{p.default === undefined ? '—' : `default (${String(p.default)})`}</option><option value="true">yes</option><option value="false">no</option>
            </select>
          ) : (
            <input type={p.type === 'number' ? 'number' : 'text'} value={values[p.name] ?? ''} placeholder={p.default === undefined ? '' : String(p.default)}
              onChange={(e) => onChange({ ...values, [p.name]: e.target.value })} />
          )}
        </label>
      ))}
    </div>
  );
}

function typed(parameters: Parameter[], values: Record<string, string>) {
  const out: Record<string, string | number | boolean> = {};
  for (const p of parameters) {
    const text = values[p.name];
    if (text === undefined || text === '') continue;
    out[p.name] = p.type === 'number' ? Number(text) : p.type === 'boolean' ? text === 'true' : text;
  }
  return out;
}

function NewScript() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [language, setLanguage] = useState<keyof typeof LANGUAGE_TEXT>('shell');
  const [os, setOs] = useState<(typeof OS_LIST)[number][]>(['linux']);
  const [body, setBody] = useState('');
  const [params, setParams] = useState('');
  const create = useMutation(trpc.scripts.create.mutationOptions({
    onSuccess: () => { setName(''); setBody(''); setParams(''); void queryClient.invalidateQueries(trpc.scripts.pathFilter()); },
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // "name:type[:default]" per line, as the CLI takes them.
    const parameters = params.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
      const [n = '', type = 'string', ...rest] = line.split(':');
      const d = rest.length ? rest.join(':') : undefined;
      if (type === 'number') return { name: n, type, ...(d !== undefined ? { default: Number(d) } : {}) } as const;
      if (type === 'boolean') return { name: n, type, ...(d !== undefined ? { default: d === 'true' } : {}) } as const;
      return { name: n, type: 'string', ...(d !== undefined ? { default: d } : {}) } as const;
    });
    create.mutate({ name: name.trim(), language, targetOs: os, body, parameters });
  };
  return (
    <Card title="New script">
      <form onSubmit={submit}>
        <div className="row wrap align-end">
          <label>Name<input required value={name} maxLength={200} onChange={(e) => setName(e.target.value)} placeholder="e.g. Clear temp files" /></label>
          <label>Language<select value={language} onChange={(e) => setLanguage(e.target.value as keyof typeof LANGUAGE_TEXT)}>
            {Object.entries(LANGUAGE_TEXT).map(([value, text]) => <option key={value} value={value}>{text}</option>)}
          </select></label>
          <fieldset><legend>Runs on</legend>
            {OS_LIST.map((o) => (
              <label key={o} className="inline"><input type="checkbox" checked={os.includes(o)}
                onChange={(e) => setOs((current) => (e.target.checked ? [...current, o] : current.filter((x) => x !== o)))} />{o}</label>
            ))}
          </fieldset>
        </div>
        <label>Script<textarea required rows={8} value={body} onChange={(e) => setBody(e.target.value)} className="mono"
          placeholder={'Parameters arrive as environment variables, e.g. $NINJAIT_PARAM_PATH'} /></label>
        <label>Parameters (one per line: name:string|number|boolean[:default])<textarea rows={3} value={params} onChange={(e) => setParams(e.target.value)} className="mono" /></label>
        <button type="submit" disabled={create.isPending || os.length === 0}>{create.isPending ? 'Saving…' : 'Save script'}</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </Card>
  );
}

/** One script: its versions, a run form, its recent runs with per-device results, and a schedule form. */
function ScriptDetail({ script, canRun, canEdit }: { script: Script; canRun: boolean; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const full = useQuery(trpc.scripts.get.queryOptions({ id: script.id }));
  const runs = useQuery(trpc.scripts.runs.list.queryOptions({ scriptId: script.id, limit: 20 }));
  const [kind, setKind] = useState<TargetKind>('organization');
  const [targetId, setTargetId] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [shownRun, setShownRun] = useState<string | null>(null);
  const [cron, setCron] = useState('0 3 * * *');
  const [zone, setZone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [scheduleName, setScheduleName] = useState('');
  const [body, setBody] = useState<string | null>(null);
  const refresh = () => void queryClient.invalidateQueries(trpc.scripts.pathFilter());
  const run = useMutation(trpc.scripts.run.mutationOptions({ onSuccess: (r) => { setShownRun(r.runId); refresh(); } }));
  const schedule = useMutation(trpc.scripts.schedules.create.mutationOptions({ onSuccess: () => { setScheduleName(''); refresh(); } }));
  const update = useMutation(trpc.scripts.update.mutationOptions({ onSuccess: () => { setBody(null); refresh(); } }));
  const result = useQuery(trpc.scripts.runs.get.queryOptions({ id: shownRun ?? '' }, { enabled: shownRun !== null, refetchInterval: 2_000 }));
  const target = targetOf(kind, targetId);
  const runColumns: Column<Run>[] = [
    { key: 'when', header: 'Started', cell: (r) => dateTime(r.createdAt) },
    { key: 'how', header: 'How', cell: (r) => (r.trigger === 'manual' ? 'by hand' : r.trigger === 'schedule' ? 'on schedule' : 'alert fix') },
    { key: 'version', header: 'Version', numeric: true, cell: (r) => r.version },
    { key: 'who', header: 'By', cell: (r) => r.requestedByLabel },
    { key: 'error', header: 'Problem', cell: (r) => r.error ?? '' },
    { key: 'open', header: 'Actions', headerHidden: true, cell: (r) => <button type="button" className="secondary small" onClick={() => setShownRun(r.id)}>Results</button> },
  ];
  return (
    <>
      <Card title={`"${script.name}" — version ${script.currentVersion}`}>
        {body === null ? <pre className="mono small">{full.data?.body ?? script.body}</pre> : (
          <textarea rows={8} className="mono" value={body} onChange={(e) => setBody(e.target.value)} aria-label="Script text" />
        )}
        {canEdit ? (body === null
          ? <button type="button" className="secondary small" onClick={() => setBody(script.body)}>Edit (saves a new version)</button>
          : <button type="button" className="small" disabled={update.isPending} onClick={() => update.mutate({ id: script.id, body })}>Save new version</button>) : null}
        {update.error ? <ErrorNote error={update.error} /> : null}
        <details><summary>Earlier versions ({full.data?.versions.length ?? 0})</summary>
          {full.data?.versions.map((v) => <div key={v.version}><strong>v{v.version}</strong> {dateTime(v.createdAt)} by {v.createdByLabel}<pre className="mono small">{v.body}</pre></div>)}
        </details>
      </Card>
      {canRun ? (
        <Card title="Run it">
          <form onSubmit={(e) => { e.preventDefault(); run.mutate({ id: script.id, target, parameters: typed(script.parameters, values) }); }}>
            <TargetPicker kind={kind} id={targetId} onChange={(k, i) => { setKind(k); setTargetId(i); }} />
            <ParameterInputs parameters={script.parameters} values={values} onChange={setValues} />
            <button type="submit" disabled={run.isPending}>{run.isPending ? 'Starting…' : 'Run now'}</button>
          </form>
          {run.data ? <p role="status">Started on {run.data.devices} device(s){run.data.skippedOtherOs ? `; ${run.data.skippedOtherOs} left out (other OS)` : ''}.</p> : null}
          {run.error ? <ErrorNote error={run.error} /> : null}
          <h3>Or on a schedule</h3>
          <form onSubmit={(e) => { e.preventDefault(); schedule.mutate({ scriptId: script.id, name: scheduleName.trim(), cron, timezone: zone, target, parameters: typed(script.parameters, values) }); }}>
            <div className="row wrap align-end">
              <label>Name<input required value={scheduleName} maxLength={200} onChange={(e) => setScheduleName(e.target.value)} placeholder="e.g. Nightly cleanup" /></label>
              <label>When (cron: minute hour day month weekday)<input required value={cron} maxLength={200} onChange={(e) => setCron(e.target.value)} /></label>
              <label>Time zone<input required value={zone} maxLength={64} onChange={(e) => setZone(e.target.value)} /></label>
              <button type="submit" disabled={schedule.isPending}>Add schedule</button>
            </div>
          </form>
          {schedule.error ? <ErrorNote error={schedule.error} /> : null}
        </Card>
      ) : null}
      <Card title="Recent runs">
        <DataTable caption={`Runs of ${script.name}`} columns={runColumns} rows={runs.data} rowKey={(r) => r.id}
          empty={<Empty title="Not run yet" />} error={runs.error} onRetry={() => void runs.refetch()} />
        {result.data ? (
          <table data-testid="run-results"><caption>Results per device</caption>
            <thead><tr><th>Device</th><th>Status</th><th>Exit code</th><th>Problem</th></tr></thead>
            <tbody>{(result.data.results as { deviceId: string; deviceName: string | null; status: string; exitCode: number | null; error: string | null }[]).map((d) => (
              <tr key={d.deviceId}><td>{d.deviceName ?? d.deviceId}</td><td><StatusBadge status={d.status} /></td><td>{d.exitCode ?? '—'}</td><td>{d.error ?? ''}</td></tr>
            ))}</tbody>
          </table>
        ) : null}
        {result.data && 'progress' in result.data && result.data.progress && result.data.progress.total > result.data.results.length ? (
          <p className="muted small">The first {result.data.results.length} of {result.data.progress.total} devices, by name.</p>
        ) : null}
      </Card>
    </>
  );
}

/** The script library: saved scripts, their versions, runs and schedules. */
export function ScriptsPage({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const canEdit = roleAtLeast(me.role, 'admin');
  const canRun = roleAtLeast(me.role, 'technician');
  const scripts = useQuery(trpc.scripts.list.queryOptions());
  const schedules = useQuery(trpc.scripts.schedules.list.queryOptions({}));
  const [selected, setSelected] = useState<string | null>(null);
  const toggle = useMutation(trpc.scripts.schedules.setEnabled.mutationOptions({ onSuccess: () => void queryClient.invalidateQueries(trpc.scripts.pathFilter()) }));
  const columns: Column<Script>[] = [
    { key: 'name', header: 'Name', cell: (s) => s.name, sortValue: (s) => s.name },
    { key: 'language', header: 'Language', cell: (s) => LANGUAGE_TEXT[s.language] },
    { key: 'os', header: 'Runs on', cell: (s) => s.targetOs.join(', ') },
    { key: 'version', header: 'Version', numeric: true, cell: (s) => s.currentVersion },
    { key: 'params', header: 'Parameters', cell: (s) => s.parameters.map((p) => p.name).join(', ') },
    { key: 'open', header: 'Actions', headerHidden: true, cell: (s) => <button type="button" className="secondary small" aria-label={`Open ${s.name}`} onClick={() => setSelected(s.id)}>Open</button> },
  ];
  const scheduleColumns: Column<Schedule>[] = [
    { key: 'name', header: 'Schedule', cell: (s) => s.name },
    { key: 'script', header: 'Script', cell: (s) => s.scriptName },
    { key: 'when', header: 'When', cell: (s) => `${s.cron} (${s.timezone})` },
    { key: 'next', header: 'Next run', cell: (s) => (s.enabled && s.nextRunAt ? dateTime(s.nextRunAt) : 'paused') },
    { key: 'last', header: 'Last run', cell: (s) => (s.lastRunAt ? dateTime(s.lastRunAt) : '—') },
    { key: 'toggle', header: 'Actions', headerHidden: true, cell: (s) => (canRun
      ? <button type="button" className="secondary small" disabled={toggle.isPending} onClick={() => toggle.mutate({ id: s.id, enabled: !s.enabled })}>{s.enabled ? 'Pause' : 'Resume'}</button> : null) },
  ];
  const shown = scripts.data?.find((s) => s.id === selected);
  return (
    <>
      <PageHeader title="Scripts" />
      {canEdit ? <NewScript /> : null}
      <Card title="Library">
        <DataTable caption="Scripts" columns={columns} rows={scripts.data} rowKey={(s) => s.id}
          empty={<Empty title="No scripts yet">{canEdit ? 'Save one above.' : 'An admin can add scripts.'}</Empty>} error={scripts.error} onRetry={() => void scripts.refetch()} />
      </Card>
      {shown ? <ScriptDetail key={shown.id} script={shown} canRun={canRun} canEdit={canEdit} /> : null}
      <Card title="Schedules">
        {toggle.error ? <ErrorNote error={toggle.error} /> : null}
        <DataTable caption="Schedules" columns={scheduleColumns} rows={schedules.data} rowKey={(s) => s.id}
          empty={<Empty title="No schedules">Open a script and add one.</Empty>} error={schedules.error} onRetry={() => void schedules.refetch()} />
      </Card>
    </>
  );
}
