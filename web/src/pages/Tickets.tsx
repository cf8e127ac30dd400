import { useState, type FormEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { roleAtLeast, useMe } from '../lib/auth.ts';
import { dateTime, label } from '../lib/format.ts';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { Card, ErrorNote, PageHeader, StatusBadge } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

export type Ticket = Outputs['tickets']['list'][number];
const STATUSES = ['open', 'in_progress', 'waiting', 'closed'] as const;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
/** Devices the picker offers for one search: enough to choose from, small enough to read. */
const PICKER_SIZE = 20;
type Status = (typeof STATUSES)[number];
type Priority = (typeof PRIORITIES)[number];

/** A colleague by name (or email), "you" for oneself, "a removed person" marked as such. */
export function Person({ id }: { id: string }) {
  const me = useMe();
  const people = useQuery(trpc.users.names.queryOptions(undefined, { staleTime: 60_000 }));
  if (me.data?.userId === id) return <>you</>;
  const person = people.data?.find((p) => p.id === id);
  if (!person) return <span className="muted">{people.isLoading ? '…' : 'someone no longer here'}</span>;
  return <span>{person.displayName}{person.removed ? <span className="muted"> (removed)</span> : null}</span>;
}

/** Picks one device by name: the fleet can be large, so the server searches and this shows the first matches. */
function DevicePicker({ value, onChange }: { value: string; onChange: (deviceId: string) => void }) {
  const [search, setSearch] = useState('');
  const trimmed = search.trim();
  const devices = useQuery(trpc.devices.list.queryOptions(
    { limit: PICKER_SIZE, ...(trimmed ? { search: trimmed } : {}) },
    { placeholderData: keepPreviousData },
  ));
  const chosen = useQuery(trpc.devices.get.queryOptions({ id: value }, { enabled: Boolean(value) && !devices.data?.items.some((d) => d.id === value) }));
  const options = devices.data?.items ?? [];
  const extra = chosen.data && !options.some((d) => d.id === chosen.data.id) ? [{ id: chosen.data.id, name: chosen.data.name }] : [];
  return (
    <div className="row wrap align-end">
      <label>
        Find a device
        <input type="search" value={search} maxLength={255} placeholder="Name…" onChange={(e) => setSearch(e.target.value)} />
      </label>
      <label>
        Device
        <select aria-label="Device" value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">No device</option>
          {[...extra, ...options].map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
        </select>
      </label>
    </div>
  );
}

/** Creates a ticket, linked to a device when one is chosen (or fixed, on a device's page). */
export function NewTicketForm({ deviceId: fixedDevice, initialDevice = '' }: { deviceId?: string; initialDevice?: string }) {
  const queryClient = useQueryClient();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [priority, setPriority] = useState<Priority>('medium');
  const [device, setDevice] = useState(initialDevice);
  const deviceId = fixedDevice ?? device;
  const create = useMutation(trpc.tickets.create.mutationOptions({
    onSuccess: (ticket) => {
      void queryClient.invalidateQueries(trpc.tickets.list.pathFilter());
      navigate(`/tickets/${ticket.id}`);
    },
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ title: title.trim(), priority, ...(description.trim() ? { description: description.trim() } : {}), ...(deviceId ? { deviceId } : {}) });
  };
  return (
    <form onSubmit={submit} className="stack">
      <label>Title<input required value={title} onChange={(e) => setTitle(e.target.value)} maxLength={500} /></label>
      <label>Description<textarea rows={3} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={20_000} /></label>
      {fixedDevice ? null : <DevicePicker value={device} onChange={setDevice} />}
      <div className="row wrap align-end">
        <label>
          Priority
          <select value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
            {PRIORITIES.map((p) => <option key={p} value={p}>{label(p)}</option>)}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>Create ticket</button>
      </div>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </form>
  );
}

/** When a ticket's SLA ends: what "overdue" is measured against. */
const slaTime = (ticket: Ticket) => new Date(ticket.slaDueAt).getTime();

function TicketTable({ rows, showDevice, empty }: { rows: Ticket[] | undefined; showDevice: boolean; empty: string }) {
  const now = Date.now();
  const overdue = (ticket: Ticket) => ticket.status !== 'closed' && slaTime(ticket) < now;
  const columns: Column<Ticket>[] = [
    { key: 'title', header: 'Title', cell: (ticket) => <Link to={`/tickets/${ticket.id}`}>{ticket.title}</Link>, sortValue: (ticket) => ticket.title },
    { key: 'status', header: 'Status', cell: (ticket) => <StatusBadge status={ticket.status} />, sortValue: (ticket) => STATUSES.indexOf(ticket.status as Status) },
    { key: 'priority', header: 'Priority', cell: (ticket) => label(ticket.priority), sortValue: (ticket) => PRIORITIES.indexOf(ticket.priority as Priority) },
    ...(showDevice ? [{
      key: 'device', header: 'Device', sortValue: (ticket: Ticket) => ticket.deviceName ?? null,
      cell: (ticket: Ticket) => (ticket.deviceId ? <Link to={`/devices/${ticket.deviceId}`}>{ticket.deviceName ?? 'a device'}</Link> : <span className="muted">—</span>),
    }] : []),
    { key: 'assignee', header: 'Assignee', cell: (ticket) => (ticket.assignedTo ? <Person id={ticket.assignedTo} /> : <span className="muted">Unassigned</span>) },
    {
      key: 'sla', header: 'SLA due', sortValue: slaTime, className: (ticket) => (overdue(ticket) ? 'bad-text' : undefined),
      cell: (ticket) => `${dateTime(ticket.slaDueAt)}${overdue(ticket) ? ' (overdue)' : ''}`,
    },
    { key: 'updated', header: 'Updated', cell: (ticket) => dateTime(ticket.updatedAt), sortValue: (ticket) => new Date(ticket.updatedAt).getTime() },
  ];
  return <DataTable caption="Tickets" columns={columns} rows={rows} rowKey={(ticket) => ticket.id} empty={empty} />;
}

/** A device page's tickets, and a form to open one about it. */
export function DeviceTickets({ deviceId, canWork }: { deviceId: string; canWork: boolean }) {
  const tickets = useQuery(trpc.tickets.list.queryOptions({ deviceId, limit: 200 }));
  return (
    <>
      <Card title="Tickets about this device">
        {tickets.error ? <ErrorNote error={tickets.error} onRetry={() => void tickets.refetch()} /> : (
          <TicketTable rows={tickets.data} showDevice={false} empty="No tickets about this device" />
        )}
      </Card>
      {canWork ? <Card title="New ticket about this device"><NewTicketForm deviceId={deviceId} /></Card> : null}
    </>
  );
}

export function TicketsPage() {
  const me = useMe();
  const { search } = useLocation();
  const canWork = roleAtLeast(me.data?.role, 'technician');
  const [status, setStatus] = useState<Status | ''>('');
  const tickets = useQuery(trpc.tickets.list.queryOptions(status ? { status, limit: 200 } : { limit: 200 }));
  // "Create ticket" on a device's row or page opens this form with the device chosen.
  const initialDevice = /^[0-9a-f-]{36}$/i.test(search.get('device') ?? '') ? search.get('device')! : '';

  return (
    <>
      <PageHeader title="Tickets">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
            <option value="">All</option>
            {STATUSES.map((s) => <option key={s} value={s}>{label(s)}</option>)}
          </select>
        </label>
      </PageHeader>
      <Card title={status ? `${label(status)} tickets` : 'All tickets'}>
        {tickets.error ? <ErrorNote error={tickets.error} onRetry={() => void tickets.refetch()} /> : (
          <TicketTable rows={tickets.data} showDevice empty={status ? 'No tickets with this status' : 'No tickets yet'} />
        )}
      </Card>
      {canWork ? (
        <Card title="New ticket">
          <NewTicketForm key={initialDevice} initialDevice={initialDevice} />
        </Card>
      ) : null}
    </>
  );
}
