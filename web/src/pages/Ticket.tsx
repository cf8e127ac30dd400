import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { roleAtLeast, type Me } from '../lib/auth.ts';
import { dateTime, label } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, ErrorNote, PageHeader, QueryView, StatusBadge } from '../components/ui.tsx';
import { Person } from './Tickets.tsx';

export function TicketPage({ id, me }: { id: string; me: Me }) {
  const queryClient = useQueryClient();
  const ticket = useQuery(trpc.tickets.get.queryOptions({ id }));
  const isAdmin = roleAtLeast(me.role, 'admin');
  const canWork = roleAtLeast(me.role, 'technician');
  const users = useQuery(trpc.users.list.queryOptions(undefined, { enabled: isAdmin }));
  const [assignee, setAssignee] = useState('');
  const [comment, setComment] = useState('');
  // This ticket and every list it shows in.
  const refresh = () => void queryClient.invalidateQueries(trpc.tickets.pathFilter());
  const assign = useMutation(trpc.tickets.assign.mutationOptions({ onSuccess: refresh }));
  const close = useMutation(trpc.tickets.close.mutationOptions({ onSuccess: refresh }));
  const addComment = useMutation(trpc.tickets.comment.mutationOptions({
    onSuccess: () => {
      setComment('');
      refresh();
    },
  }));
  const submitComment = (event: FormEvent) => {
    event.preventDefault();
    if (comment.trim()) addComment.mutate({ id, body: comment.trim() });
  };

  return (
    <QueryView query={ticket}>
      {(data) => {
        const closed = data.status === 'closed';
        return (
          <>
            <nav aria-label="Breadcrumb" className="crumbs"><Link to="/tickets">Tickets</Link> / <span>{data.title}</span></nav>
            <PageHeader title={data.title}>
              <StatusBadge status={data.status} />
              {canWork && !closed ? <button type="button" onClick={() => close.mutate({ id })} disabled={close.isPending}>Close ticket</button> : null}
            </PageHeader>
            {close.error ? <ErrorNote error={close.error} /> : null}
            <div className="grid-2">
              <Card title="Details">
                {data.description ? <p className="pre-wrap">{data.description}</p> : <p className="muted">No description.</p>}
                <dl className="fields">
                  <div><dt>Priority</dt><dd>{label(data.priority)}</dd></div>
                  <div><dt>SLA due</dt><dd>{dateTime(data.slaDueAt)}</dd></div>
                  <div><dt>Created</dt><dd>{dateTime(data.createdAt)}{data.createdBy ? <> by <Person id={data.createdBy} /></> : null}</dd></div>
                  <div><dt>Updated</dt><dd>{dateTime(data.updatedAt)}</dd></div>
                  {data.closedAt ? <div><dt>Closed</dt><dd>{dateTime(data.closedAt)}</dd></div> : null}
                  <div><dt>Device</dt><dd>{data.deviceId ? <Link to={`/devices/${data.deviceId}`}>{data.deviceName ?? 'Open device'}</Link> : '—'}</dd></div>
                </dl>
              </Card>
              <Card title="Assignment">
                <p>Assigned to: {data.assignedTo ? <strong><Person id={data.assignedTo} /></strong> : <span className="muted">nobody</span>}</p>
                {canWork && !closed ? (
                  <div className="row wrap align-end">
                    {isAdmin ? (
                      <>
                        <label>
                          Assign to
                          <select value={assignee} onChange={(e) => setAssignee(e.target.value)}>
                            <option value="">Choose a person…</option>
                            {(users.data ?? []).filter((u) => u.role !== 'viewer').map((u) => <option key={u.id} value={u.id}>{u.email}</option>)}
                          </select>
                        </label>
                        <button type="button" disabled={!assignee || assign.isPending} onClick={() => assign.mutate({ id, assignedTo: assignee })}>Assign</button>
                      </>
                    ) : null}
                    {data.assignedTo !== me.userId ? (
                      <button type="button" className="secondary" disabled={assign.isPending} onClick={() => assign.mutate({ id, assignedTo: me.userId })}>Assign to me</button>
                    ) : null}
                  </div>
                ) : <p className="muted">{closed ? 'Closed tickets cannot be reassigned.' : 'Viewers cannot assign tickets.'}</p>}
                {assign.error ? <ErrorNote error={assign.error} /> : null}
              </Card>
            </div>
            <Card title="Comments">
              {data.comments.length === 0 ? <p className="muted">No comments yet.</p> : (
                <ul className="comments">
                  {data.comments.map((c) => (
                    <li key={c.id}>
                      <div className="muted small">{c.authorId ? <Person id={c.authorId} /> : 'someone'} · {dateTime(c.createdAt)}</div>
                      <div className="pre-wrap">{c.body}</div>
                    </li>
                  ))}
                </ul>
              )}
              {canWork && !closed ? (
                <form onSubmit={submitComment} className="stack">
                  <label>Add a comment<textarea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} /></label>
                  <div><button type="submit" disabled={addComment.isPending || !comment.trim()}>Comment</button></div>
                  {addComment.error ? <ErrorNote error={addComment.error} /> : null}
                </form>
              ) : null}
            </Card>
          </>
        );
      }}
    </QueryView>
  );
}
