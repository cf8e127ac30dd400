import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Outputs } from '../lib/trpc.ts';
import { roleAtLeast, useMe } from '../lib/auth.ts';
import { dateTime, label } from '../lib/format.ts';
import { Link, navigate } from '../lib/router.tsx';
import { Card, Empty, ErrorNote, PageHeader, QueryView, StatusBadge } from '../components/ui.tsx';

export type Ticket = Outputs['tickets']['list'][number];
const STATUSES = ['open', 'in_progress', 'waiting', 'closed'] as const;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
type Status = (typeof STATUSES)[number];
type Priority = (typeof PRIORITIES)[number];

/** A person's email when this viewer may list users (admins), else a short id; "you" for oneself. */
export function Person({ id }: { id: string }) {
  const me = useMe();
  const isAdmin = roleAtLeast(me.data?.role, 'admin');
  const users = useQuery({ queryKey: ['users.list'], queryFn: () => api().users.list.query(), enabled: isAdmin });
  if (me.data?.userId === id) return <>you</>;
  const user = users.data?.find((u) => u.id === id);
  return <span title={id}>{user?.email ?? `user ${id.slice(0, 8)}`}</span>;
}

export function TicketsPage() {
  const queryClient = useQueryClient();
  const me = useMe();
  const canWork = roleAtLeast(me.data?.role, 'technician');
  const [status, setStatus] = useState<Status | ''>('');
  const tickets = useQuery({ queryKey: ['tickets.list', status], queryFn: () => api().tickets.list.query(status ? { status, limit: 200 } : { limit: 200 }) });
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [priority, setPriority] = useState<Priority>('medium');
  const create = useMutation({
    mutationFn: () => api().tickets.create.mutate({ title: title.trim(), priority, ...(description.trim() ? { description: description.trim() } : {}) }),
    onSuccess: (ticket) => {
      void queryClient.invalidateQueries({ queryKey: ['tickets.list'] });
      navigate(`/tickets/${ticket.id}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const now = Date.now();

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
        <QueryView query={tickets} empty={(rows) => (rows.length === 0 ? <Empty title={status ? 'No tickets with this status' : 'No tickets yet'} /> : null)}>
          {(rows) => (
            <div className="table-wrap">
              <table className="table">
                <caption className="sr-only">Tickets</caption>
                <thead><tr><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Priority</th><th scope="col">Assignee</th><th scope="col">SLA due</th><th scope="col">Updated</th></tr></thead>
                <tbody>
                  {rows.map((ticket) => {
                    const overdue = ticket.status !== 'closed' && new Date(ticket.slaDueAt).getTime() < now;
                    return (
                      <tr key={ticket.id}>
                        <td><Link to={`/tickets/${ticket.id}`}>{ticket.title}</Link></td>
                        <td><StatusBadge status={ticket.status} /></td>
                        <td>{label(ticket.priority)}</td>
                        <td>{ticket.assignedTo ? <Person id={ticket.assignedTo} /> : <span className="muted">Unassigned</span>}</td>
                        <td className={overdue ? 'bad-text' : undefined}>{dateTime(ticket.slaDueAt)}{overdue ? ' (overdue)' : ''}</td>
                        <td>{dateTime(ticket.updatedAt)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      </Card>
      {canWork ? (
        <Card title="New ticket">
          <form onSubmit={submit} className="stack">
            <label>Title<input required value={title} onChange={(e) => setTitle(e.target.value)} maxLength={500} /></label>
            <label>Description<textarea rows={3} value={description} onChange={(e) => setDescription(e.target.value)} /></label>
            <div className="row align-end">
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
        </Card>
      ) : null}
    </>
  );
}
