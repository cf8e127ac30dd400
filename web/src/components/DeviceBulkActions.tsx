import { useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { roleAtLeast } from '../lib/auth.ts';
import { label } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import type { DeviceRow } from '../lib/fleet.ts';
import type { Role } from '@ninjait/shared';
import { ErrorNote, StatusBadge } from './ui.tsx';

const SHELLS = ['', 'sh', 'bash', 'powershell', 'cmd'] as const;
/** How often a running job's progress is read. */
const JOB_POLL_MS = 2_000;
/** Calls in flight at once when an action is one call per device. */
const PER_DEVICE_CONCURRENCY = 4;
const ID_SAMPLE = 3;

type Panel = 'run' | 'ticket' | 'tag' | null;
interface Outcome { done: number; failed: { name: string; error: unknown }[]; links: { id: string; text: string }[] }

/** Runs `act` for every device, a few at a time; one failure does not stop the others. */
async function forEachDevice(devices: DeviceRow[], act: (device: DeviceRow) => Promise<{ id: string; text: string } | null>): Promise<Outcome> {
  const outcome: Outcome = { done: 0, failed: [], links: [] };
  const queue = [...devices];
  const worker = async () => {
    for (let device = queue.shift(); device; device = queue.shift()) {
      try {
        const link = await act(device);
        if (link) outcome.links.push(link);
        outcome.done += 1;
      } catch (error) {
        outcome.failed.push({ name: device.name, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PER_DEVICE_CONCURRENCY, devices.length) }, worker));
  return outcome;
}

/** A bulk job's progress and each device's result, read until the job ends. */
function JobProgress({ jobId, names }: { jobId: string; names: Map<string, string> }) {
  const job = useQuery(trpc.jobs.status.queryOptions({ id: jobId }, {
    refetchInterval: (query) => (query.state.data && query.state.data.status !== 'running' ? false : JOB_POLL_MS),
  }));
  if (job.error) return <ErrorNote error={job.error} onRetry={() => void job.refetch()} />;
  if (!job.data) return <p className="muted small">Starting…</p>;
  const { counts, progress } = job.data;
  return (
    <div className="job-progress" aria-label="Job progress" data-job-status={job.data.status}>
      <p>
        <StatusBadge status={job.data.status} /> {progress.done} of {progress.total} done · {counts.succeeded} succeeded · {counts.failed} failed
        {counts.skipped ? ` · ${counts.skipped} skipped` : ''}
      </p>
      <ul className="plain">
        {job.data.targets.map((target) => (
          <li key={target.deviceId}>
            <Link to={`/devices/${target.deviceId}?tab=commands`}>{names.get(target.deviceId) ?? target.deviceId.slice(0, 8)}</Link>{' '}
            <StatusBadge status={target.status} />
            {target.exitCode !== null ? <span className="muted small"> exit code {target.exitCode}</span> : null}
            {target.error ? <span className="bad-text small"> {target.error}</span> : null}
          </li>
        ))}
      </ul>
      {progress.total > job.data.targets.length ? <p className="muted small">The first {job.data.targets.length} of {progress.total} devices.</p> : null}
    </div>
  );
}

function OutcomeNote({ outcome, what }: { outcome: Outcome; what: string }) {
  return (
    <div className="stack" role="status">
      <p>{outcome.done} {what}{outcome.failed.length ? `, ${outcome.failed.length} failed` : ''}.</p>
      {outcome.links.length > 0 ? (
        <ul className="plain">{outcome.links.map((link) => <li key={link.id}><Link to={`/tickets/${link.id}`}>{link.text}</Link></li>)}</ul>
      ) : null}
      {outcome.failed.map((failure) => <ErrorNote key={failure.name} error={new Error(`${failure.name}: ${(failure.error as Error).message}`)} />)}
    </div>
  );
}

/**
 * What can be done to the devices selected on the fleet table: run one command on them (a bulk
 * job, which the server paces), open a ticket about each, or (admins) decommission them.
 */
/**
 * `structure`: the site or group the fleet table is filtered by, so a command can go to every
 * approved device of it (resolved by the server when the job starts), not only the selected rows.
 */
export function DeviceBulkActions({ selected, role, onClear, structure }: {
  selected: DeviceRow[]; role: Role | undefined; onClear: () => void; structure?: { siteId?: string; groupId?: string } | undefined;
}) {
  const queryClient = useQueryClient();
  const [panel, setPanel] = useState<Panel>(null);
  const [script, setScript] = useState('');
  const [shell, setShell] = useState<(typeof SHELLS)[number]>('');
  const [title, setTitle] = useState('');
  const [priority, setPriority] = useState<'low' | 'medium' | 'high' | 'urgent'>('medium');
  const [busy, setBusy] = useState(false);
  const [whole, setWhole] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [job, setJob] = useState<{ id: string; names: Map<string, string> } | null>(null);
  const [outcome, setOutcome] = useState<{ outcome: Outcome; what: string } | null>(null);
  const [tagId, setTagId] = useState('');
  const [tagNote, setTagNote] = useState<string | null>(null);
  const canWork = roleAtLeast(role, 'technician');
  const isAdmin = roleAtLeast(role, 'admin');
  // Tagging changes the fleet's structure: admins only, as on the device page.
  const tags = useQuery(trpc.fleet.tags.list.queryOptions(undefined, { enabled: isAdmin && selected.length > 0, retry: false }));
  // Nothing reaches a device waiting for approval: a job naming one would be refused whole.
  const runnable = selected.filter((device) => !device.pendingApproval);
  const sample = selected.slice(0, ID_SAMPLE).map((device) => device.name).join(', ') + (selected.length > ID_SAMPLE ? '…' : '');

  const attempt = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const run = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      if (!script.trim()) throw new Error('Type a command to run.');
      const targets = whole && structure ? structure : { deviceIds: runnable.map((device) => device.id) };
      const created = await api().jobs.create.mutate({
        ...targets, script, ...(shell ? { shell } : {}), name: `Console: ${script.trim().slice(0, 60)}`,
      });
      setJob({ id: created.id, names: new Map(runnable.map((device) => [device.id, device.name])) });
      setPanel(null);
    });
  };
  const createTickets = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      if (!title.trim()) throw new Error('Give the tickets a title.');
      const result = await forEachDevice(selected, async (device) => {
        const ticket = await api().tickets.create.mutate({ title: `${title.trim()} (${device.name})`.slice(0, 500), priority, deviceId: device.id });
        return { id: ticket.id, text: ticket.title };
      });
      void queryClient.invalidateQueries(trpc.tickets.list.pathFilter());
      setOutcome({ outcome: result, what: result.done === 1 ? 'ticket created' : 'tickets created' });
      setPanel(null);
    });
  };
  /** One call for every selected device: the server adds or removes the tag on all of them or none. */
  const changeTag = (add: boolean) => {
    void attempt(async () => {
      const tag = tags.data?.find((t) => t.id === tagId);
      if (!tag) throw new Error('Choose a tag.');
      const { changed } = await api().fleet.tags.assign.mutate({ deviceIds: selected.map((device) => device.id), tagIds: [tag.id], add });
      void queryClient.invalidateQueries(trpc.devices.pathFilter());
      void queryClient.invalidateQueries(trpc.fleet.pathFilter());
      const n = selected.length;
      setTagNote(add
        ? `Tag "${tag.name}" added to ${changed} of ${n} device(s)${changed < n ? ' (the others had it already)' : ''}.`
        : `Tag "${tag.name}" removed from ${changed} of ${n} device(s)${changed < n ? ' (the others did not have it)' : ''}.`);
    });
  };
  const decommission = () => {
    if (!confirm(`Decommission ${selected.length} device(s) (${sample})? Their agents are cut off at once and must be enrolled again.`)) return;
    void attempt(async () => {
      const result = await forEachDevice(selected, async (device) => {
        await api().devices.decommission.mutate({ id: device.id });
        return null;
      });
      void queryClient.invalidateQueries(trpc.devices.pathFilter());
      setOutcome({ outcome: result, what: 'decommissioned' });
      onClear();
    });
  };

  if (selected.length === 0 && !job && !outcome) return null;
  return (
    <section className="bulk-bar card" aria-label="Selected devices">
      {selected.length > 0 ? (
        <div className="row wrap">
          <strong aria-live="polite">{selected.length} selected</strong>
          {canWork ? (
            <>
              <button type="button" className="secondary small" aria-expanded={panel === 'run'} onClick={() => setPanel(panel === 'run' ? null : 'run')} disabled={runnable.length === 0}>
                Run a command…
              </button>
              <button type="button" className="secondary small" aria-expanded={panel === 'ticket'} onClick={() => setPanel(panel === 'ticket' ? null : 'ticket')}>Create tickets…</button>
            </>
          ) : <span className="muted small">Your role can export and look, not act.</span>}
          {isAdmin ? (
            <button type="button" className="secondary small" aria-expanded={panel === 'tag'} onClick={() => { setPanel(panel === 'tag' ? null : 'tag'); setTagNote(null); }}>Tags…</button>
          ) : null}
          {isAdmin ? <button type="button" className="danger small" onClick={decommission} disabled={busy}>Decommission</button> : null}
          <button type="button" className="link" onClick={onClear}>Clear selection</button>
        </div>
      ) : null}
      {panel === 'run' ? (
        <form className="stack bulk-form" onSubmit={run}>
          {runnable.length < selected.length ? <p className="muted small">{selected.length - runnable.length} waiting for approval are left out: nothing runs on them until an admin decides.</p> : null}
          <div className="row wrap align-end">
            <label>
              Shell
              <select value={shell} onChange={(e) => setShell(e.target.value as (typeof SHELLS)[number])}>
                {SHELLS.map((s) => <option key={s} value={s}>{s || 'Usual for the OS'}</option>)}
              </select>
            </label>
          </div>
          {structure ? (
            <label className="inline">
              <input type="checkbox" checked={whole} onChange={(e) => setWhole(e.target.checked)} /> Every device of the {structure.groupId ? 'group' : 'site'} shown, not only the selected ones
            </label>
          ) : null}
          <label>Command for {whole && structure ? `every device of the ${structure.groupId ? 'group' : 'site'}` : `${runnable.length} device(s)`}<textarea rows={2} spellCheck={false} value={script} onChange={(e) => setScript(e.target.value)} /></label>
          <div><button type="submit" disabled={busy}>{busy ? 'Starting…' : whole && structure ? 'Run on all of them' : `Run on ${runnable.length}`}</button></div>
        </form>
      ) : null}
      {panel === 'ticket' ? (
        <form className="stack bulk-form" onSubmit={createTickets}>
          <label>Ticket title (one ticket per device, its name added)<input value={title} maxLength={400} onChange={(e) => setTitle(e.target.value)} /></label>
          <div className="row wrap align-end">
            <label>
              Priority
              <select value={priority} onChange={(e) => setPriority(e.target.value as typeof priority)}>
                {(['low', 'medium', 'high', 'urgent'] as const).map((p) => <option key={p} value={p}>{label(p)}</option>)}
              </select>
            </label>
            <button type="submit" disabled={busy}>{busy ? 'Creating…' : `Create ${selected.length} ticket(s)`}</button>
          </div>
        </form>
      ) : null}
      {panel === 'tag' ? (
        <form className="stack bulk-form" aria-label="Tag the selected devices" onSubmit={(e) => e.preventDefault()}>
          {tags.error ? <ErrorNote error={tags.error} onRetry={() => void tags.refetch()} /> : null}
          {tags.data && tags.data.length === 0 ? (
            <p className="muted small">No tags yet: create one on the <Link to="/structure">Fleet structure</Link> page.</p>
          ) : null}
          {tags.data && tags.data.length > 0 ? (
            <div className="row wrap align-end">
              <label>
                Tag
                <select value={tagId} onChange={(e) => { setTagId(e.target.value); setTagNote(null); }}>
                  <option value="">Choose a tag</option>
                  {tags.data.map((tag) => <option key={tag.id} value={tag.id}>{tag.name}</option>)}
                </select>
              </label>
              <button type="button" disabled={busy || !tagId} onClick={() => changeTag(true)}>Add tag to {selected.length}</button>
              <button type="button" className="secondary" disabled={busy || !tagId} onClick={() => changeTag(false)}>Remove tag from {selected.length}</button>
            </div>
          ) : null}
          {tagNote ? <p role="status">{tagNote}</p> : null}
        </form>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
      {job ? (
        <div>
          <JobProgress jobId={job.id} names={job.names} />
          <button type="button" className="link" onClick={() => setJob(null)}>Hide job</button>
        </div>
      ) : null}
      {outcome ? (
        <div>
          <OutcomeNote outcome={outcome.outcome} what={outcome.what} />
          <button type="button" className="link" onClick={() => setOutcome(null)}>Dismiss</button>
        </div>
      ) : null}
    </section>
  );
}
