import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Inputs, Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { dateTime, label } from '../lib/format.ts';
import { Card, Empty, ErrorNote, PageHeader, QueryView } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type Condition = Inputs['alertRules']['create']['condition'];
type Rule = Outputs['alertRules']['list'][number];
type Channel = Outputs['channels']['list'][number];
const WATCHES = ['cpu', 'memory', 'disk', 'network_errors', 'offline', 'script'] as const;
/** How a script check fails: a non-zero exit code, output matching the pattern, or output missing it. */
const CHECK_TESTS = ['exit', 'matches', 'lacks'] as const;
type CheckTest = (typeof CHECK_TESTS)[number];
const CHECK_TEST_LABEL: Record<CheckTest, string> = { exit: 'Exit code is not 0', matches: 'Output matches', lacks: 'Output does not match' };
const SEVERITIES = ['info', 'warning', 'critical'] as const;
const KINDS = ['webhook', 'email', 'slack', 'teams'] as const;
const HOUR_MS = 3_600_000;

/** After a change, every query of that part of the router (its list) is read again. */
function useRefresh(filter: { queryKey: readonly unknown[] }) {
  const queryClient = useQueryClient();
  return () => void queryClient.invalidateQueries(filter);
}

interface ScriptCheckForm { scriptId: string; test: CheckTest; pattern: string }

/**
 * A condition from the form: a metric above a threshold for some minutes (clearing below another),
 * offline for minutes, or a saved script run every so many minutes that fails by its exit code or output.
 */
function conditionOf(watch: (typeof WATCHES)[number], threshold: number, minutes: number, clear: string, check: ScriptCheckForm): Condition {
  if (watch === 'offline') return { kind: 'offline', forSec: Math.max(1, minutes) * 60 };
  if (watch === 'script') {
    const everySec = Math.max(1, minutes) * 60;
    return {
      kind: 'script', scriptId: check.scriptId, everySec, timeoutSec: Math.min(60, everySec),
      ...(check.test === 'exit' ? { exit: { op: '!=', code: 0 } } : { output: { op: check.test === 'matches' ? '~' : '!~', pattern: check.pattern, ignoreCase: false } }),
    };
  }
  return { kind: 'metric', metric: watch, op: '>', threshold, forSec: minutes * 60, ...(clear.trim() ? { clear: Number(clear) } : {}) };
}

function Rules() {
  const refresh = useRefresh(trpc.alertRules.pathFilter());
  const rules = useQuery(trpc.alertRules.list.queryOptions());
  const channels = useQuery(trpc.channels.list.queryOptions());
  const [name, setName] = useState('');
  const [watch, setWatch] = useState<(typeof WATCHES)[number]>('cpu');
  const [threshold, setThreshold] = useState('90');
  const [minutes, setMinutes] = useState('5');
  const [clear, setClear] = useState('');
  const [severity, setSeverity] = useState<(typeof SEVERITIES)[number]>('warning');
  const [chosen, setChosen] = useState<string[]>([]);
  const [ticket, setTicket] = useState(false);
  const [check, setCheck] = useState<ScriptCheckForm>({ scriptId: '', test: 'exit', pattern: '' });
  const scripts = useQuery({ ...trpc.scripts.list.queryOptions(), enabled: watch === 'script' });
  const create = useMutation(trpc.alertRules.create.mutationOptions({
    onSuccess: () => {
      setName('');
      refresh();
    },
  }));
  const remove = useMutation(trpc.alertRules.delete.mutationOptions({ onSuccess: refresh }));
  const toggle = useMutation(trpc.alertRules.update.mutationOptions({ onSuccess: refresh }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      name: name.trim(), severity, channelIds: chosen, openTicket: ticket,
      condition: conditionOf(watch, Number(threshold), Number(minutes), clear, check),
    });
  };
  const columns: Column<Rule>[] = [
    { key: 'name', header: 'Name', sortValue: (rule) => rule.name, cell: (rule) => <>{rule.name}{rule.enabled ? '' : <span className="muted"> (off)</span>}</> },
    { key: 'condition', header: 'Condition', className: 'mono small', cell: (rule) => JSON.stringify(rule.condition) },
    { key: 'severity', header: 'Severity', cell: (rule) => label(rule.severity) },
    { key: 'channels', header: 'Channels', cell: (rule) => rule.channelIds.map((id) => channels.data?.find((c) => c.id === id)?.name ?? '…').join(', ') || '—' },
    { key: 'ticket', header: 'Ticket', cell: (rule) => (rule.openTicket ? 'Yes' : 'No') },
    {
      key: 'actions', header: 'Actions', className: 'nowrap',
      cell: (rule) => (
        <>
          <button type="button" className="secondary small" onClick={() => toggle.mutate({ id: rule.id, enabled: !rule.enabled })}>{rule.enabled ? 'Turn off' : 'Turn on'}</button>
          <button type="button" className="secondary small" onClick={() => remove.mutate({ id: rule.id })}>Delete</button>
        </>
      ),
    },
  ];
  return (
    <Card title="Rules">
      <DataTable
        caption="Alert rules"
        columns={columns}
        rows={rules.data}
        rowKey={(rule) => rule.id}
        empty={<Empty title="No rules yet: nothing raises alerts" />}
        error={rules.error}
        onRetry={() => void rules.refetch()}
      />
      <form className="row wrap align-end" onSubmit={submit} aria-label="New rule">
        <label>Name<input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>
          Watch
          <select value={watch} onChange={(e) => setWatch(e.target.value as (typeof WATCHES)[number])}>
            {WATCHES.map((w) => <option key={w} value={w}>{w === 'offline' ? 'Offline' : w === 'script' ? 'Script check' : w === 'network_errors' ? 'Network errors per minute' : `${label(w)} %`}</option>)}
          </select>
        </label>
        {watch === 'script' ? (
          <>
            <label>
              Script
              <select required value={check.scriptId} onChange={(e) => setCheck({ ...check, scriptId: e.target.value })}>
                <option value="">Choose a script…</option>
                {(scripts.data ?? []).map((script) => <option key={script.id} value={script.id}>{script.name}</option>)}
              </select>
            </label>
            <label>
              Fails when
              <select value={check.test} onChange={(e) => setCheck({ ...check, test: e.target.value as CheckTest })}>
                {CHECK_TESTS.map((test) => <option key={test} value={test}>{CHECK_TEST_LABEL[test]}</option>)}
              </select>
            </label>
            {check.test !== 'exit' ? <label>Pattern (regular expression)<input required maxLength={200} className="mono" value={check.pattern} onChange={(e) => setCheck({ ...check, pattern: e.target.value })} /></label> : null}
          </>
        ) : null}
        {watch !== 'offline' && watch !== 'script' ? <label>Above<input type="number" min={0} max={watch === 'network_errors' ? 1e9 : 100} required value={threshold} onChange={(e) => setThreshold(e.target.value)} /></label> : null}
        <label>{watch === 'script' ? 'Every minutes' : 'For minutes'}<input type="number" min={watch === 'offline' || watch === 'script' ? 1 : 0} max={watch === 'script' ? 1_440 : 10_080} required value={minutes} onChange={(e) => setMinutes(e.target.value)} /></label>
        {watch !== 'offline' && watch !== 'script' ? <label>Clears below (optional)<input type="number" min={0} value={clear} onChange={(e) => setClear(e.target.value)} /></label> : null}
        <label>
          Severity
          <select value={severity} onChange={(e) => setSeverity(e.target.value as (typeof SEVERITIES)[number])}>
            {SEVERITIES.map((s) => <option key={s} value={s}>{label(s)}</option>)}
          </select>
        </label>
        <fieldset>
          <legend>Notify</legend>
          {(channels.data ?? []).map((c) => (
            <label key={c.id} className="inline">
              <input type="checkbox" checked={chosen.includes(c.id)} onChange={() => setChosen((now) => (now.includes(c.id) ? now.filter((x) => x !== c.id) : [...now, c.id]))} /> {c.name}
            </label>
          ))}
        </fieldset>
        <label className="inline"><input type="checkbox" checked={ticket} onChange={(e) => setTicket(e.target.checked)} /> Open a ticket</label>
        <button type="submit" disabled={create.isPending}>Add rule</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </Card>
  );
}

function Channels() {
  const refresh = useRefresh(trpc.channels.pathFilter());
  const channels = useQuery(trpc.channels.list.queryOptions(undefined, { refetchInterval: 15_000 }));
  const [name, setName] = useState('');
  const [kind, setKind] = useState<(typeof KINDS)[number]>('webhook');
  const [target, setTarget] = useState('');
  const create = useMutation(trpc.channels.create.mutationOptions({
    onSuccess: () => {
      setName('');
      setTarget('');
      refresh();
    },
  }));
  const test = useMutation(trpc.channels.test.mutationOptions({ onSettled: refresh }));
  const remove = useMutation(trpc.channels.delete.mutationOptions({ onSuccess: refresh }));
  const columns: Column<Channel>[] = [
    { key: 'name', header: 'Name', sortValue: (c) => c.name, cell: (c) => c.name },
    { key: 'kind', header: 'Kind', cell: (c) => label(c.kind) },
    { key: 'target', header: 'Sends to', className: 'mono small', cell: (c) => c.target },
    {
      key: 'state', header: 'State',
      cell: (c) => (
        <>
          {c.consecutiveFailures > 0
            ? <span className="badge offline">Failing ({c.consecutiveFailures}): {c.lastError}</span>
            : c.lastSuccessAt ? `Delivered ${dateTime(c.lastSuccessAt)}` : 'Nothing sent yet'}
          {c.pending > 0 ? <span className="muted small"> · {c.pending} waiting</span> : null}
        </>
      ),
    },
    {
      key: 'actions', header: 'Actions', className: 'nowrap',
      cell: (c) => (
        <>
          <button type="button" className="secondary small" disabled={test.isPending} onClick={() => test.mutate({ id: c.id })}>Send test</button>
          <button type="button" className="secondary small" onClick={() => remove.mutate({ id: c.id })}>Delete</button>
        </>
      ),
    },
  ];
  return (
    <Card title="Channels">
      <DataTable
        caption="Notification channels"
        columns={columns}
        rows={channels.data}
        rowKey={(c) => c.id}
        empty={<Empty title="No channels: alerts notify nobody yet" />}
        error={channels.error}
        onRetry={() => void channels.refetch()}
      />
      {test.data ? <p role="status">{test.data.ok ? 'Test message delivered.' : `Test failed: ${test.data.error}`}</p> : null}
      <form className="row wrap align-end" onSubmit={(e) => { e.preventDefault(); create.mutate({ name: name.trim(), kind, target: target.trim() }); }} aria-label="New channel">
        <label>Name<input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as (typeof KINDS)[number])}>
            {KINDS.map((k) => <option key={k} value={k}>{label(k)}</option>)}
          </select>
        </label>
        <label>{kind === 'email' ? 'Email address' : 'URL'}<input required maxLength={2000} value={target} onChange={(e) => setTarget(e.target.value)} /></label>
        <button type="submit" disabled={create.isPending}>Add channel</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
      {create.data?.signingSecret ? <p role="status">Signing secret, shown only now: <code>{create.data.signingSecret}</code></p> : null}
    </Card>
  );
}

function Maintenance() {
  const refresh = useRefresh(trpc.maintenance.pathFilter());
  const windows = useQuery(trpc.maintenance.list.queryOptions());
  const [hours, setHours] = useState('2');
  const [reason, setReason] = useState('');
  const create = useMutation(trpc.maintenance.create.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.maintenance.delete.mutationOptions({ onSuccess: refresh }));
  return (
    <Card title="Maintenance windows">
      <p className="muted">Alerts still open during a window, but nobody is notified and no ticket is opened.</p>
      <QueryView query={windows} empty={(list) => (list.length === 0 ? <Empty title="No maintenance planned" /> : null)}>
        {(list) => (
          <ul>
            {list.map((w) => (
              <li key={w.id}>
                {w.deviceId ? 'One device' : 'Every device'} from {dateTime(w.startsAt)} to {dateTime(w.endsAt)}{w.reason ? `: ${w.reason}` : ''}{' '}
                <button type="button" className="secondary small" onClick={() => remove.mutate({ id: w.id })}>End</button>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
      <form className="row wrap align-end" onSubmit={(e) => {
        e.preventDefault();
        // The window starts when the button is pressed, so its times are taken now, not when the page drew.
        create.mutate({ startsAt: new Date(), endsAt: new Date(Date.now() + Number(hours) * HOUR_MS), reason: reason.trim() });
      }} aria-label="New maintenance window">
        <label>Mute every device for hours<input type="number" min={1} max={744} required value={hours} onChange={(e) => setHours(e.target.value)} /></label>
        <label>Reason<input maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} /></label>
        <button type="submit" disabled={create.isPending}>Start now</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </Card>
  );
}

/** Admins set up what raises alerts, who hears of them, and when the fleet is muted. */
export function AlertSettingsPage() {
  return (
    <>
      <PageHeader title="Alert rules and channels" />
      <Rules />
      <Channels />
      <Maintenance />
    </>
  );
}
