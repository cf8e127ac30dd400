import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../lib/trpc.ts';
import { roleAtLeast, type Me } from '../lib/auth.ts';
import { dateTime, label } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, ErrorNote, PageHeader, QueryView, StatusBadge } from '../components/ui.tsx';
import { Person } from './Tickets.tsx';

export function TicketPage({ id, me }: { id: string; me: Me }) {
  const queryClient = useQueryClient();
  const ticket = useQuery({ queryKey: ['tickets.get', id], queryFn: () => api().tickets.get.query({ id }) });
  const isAdmin = roleAtLeast(me.role, 'admin');
  const canWork = roleAtLeast(me.role, 'technician');
  const users = useQuery({ queryKey: ['users.list'], queryFn: () => api().users.list.query(), enabled: isAdmin });
  const [assignee, setAssignee] = useState('');
  const [comment, setComment] = useState('');
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['tickets.get', id] });
    void queryClient.invalidateQueries({ queryKey: ['tickets.list'] });
  };
  const assign = useMutation({ mutationFn: (userId: string | null) => api().tickets.assign.mutate({ id, assignedTo: userId }), onSuccess: refresh });
  const close = useMutation({ mutationFn: () => api().tickets.close.mutate({ id }), onSuccess: refresh });
  const addComment = useMutation({
    mutationFn: () => api().tickets.comment.mutate({ id, body: comment.trim() }),
    onSuccess: () => {
      setComment('');
      refresh();
    },
  });
  const submitComment = (event: FormEvent) => {
    event.preventDefault();
    if (comment.trim()) addComment.mutate();
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
              {canWork && !closed ? <button type="button" onClick={() => close.mutate()} disabled={close.isPending}>Close ticket</button> : null}
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
                  {data.deviceId ? <div><dt>Device</dt><dd><Link to={`/devices/${data.deviceId}`}>Open device</Link></dd></div> : null}
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
                        <button type="button" disabled={!assignee || assign.isPending} onClick={() => assign.mutate(assignee)}>Assign</button>
                      </>
                    ) : null}
                    {data.assignedTo !== me.userId ? (
                      <button type="button" className="secondary" disabled={assign.isPending} onClick={() => assign.mutate(me.userId)}>Assign to me</button>
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
