import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@ninjait/shared';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { dateTime, toDate } from '../lib/format.ts';
import { Card, CopyButton, Empty, ErrorNote, PageHeader, StatusBadge } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { roleAtLeast, type Me } from '../lib/auth.ts';

type Hook = Outputs['webhooks']['list'][number];
type Delivery = Outputs['webhooks']['deliveries'][number];

/** The events, as a technician would say them. */
const EVENT_TEXT: Record<WebhookEventType, string> = {
  'device.enrolled': 'A device enrolled',
  'device.offline': 'A device went offline',
  'device.online': 'A device came online',
  'device.decommissioned': 'A device was decommissioned',
  'command.finished': 'A command finished',
  'ticket.created': 'A ticket was opened',
  'ticket.changed': 'A ticket changed',
  'alert.opened': 'An alert opened',
  'alert.resolved': 'An alert resolved',
};

function NewWebhook({ onCreated }: { onCreated: (created: { name: string; secret: string }) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<WebhookEventType[]>([]);
  const create = useMutation(trpc.webhooks.create.mutationOptions({
    onSuccess: (result) => {
      onCreated({ name: result.subscription.name, secret: result.signingSecret });
      setName('');
      setUrl('');
      setEvents([]);
      void queryClient.invalidateQueries(trpc.webhooks.pathFilter());
    },
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), url: url.trim(), eventTypes: events });
  };
  return (
    <Card title="New webhook">
      <form onSubmit={submit}>
        <div className="row wrap align-end">
          <label>Name<input required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. PSA" maxLength={200} /></label>
          <label>Receiver URL<input required type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://psa.example.com/hooks/ninjait" maxLength={2000} /></label>
        </div>
        <fieldset>
          <legend>Send when</legend>
          {WEBHOOK_EVENT_TYPES.map((type) => (
            <label key={type} className="inline">
              <input type="checkbox" name="event" value={type} checked={events.includes(type)}
                onChange={(e) => setEvents((current) => (e.target.checked ? [...current, type] : current.filter((t) => t !== type)))} />
              {EVENT_TEXT[type]} <code className="small">{type}</code>
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={create.isPending || events.length === 0}>{create.isPending ? 'Creating…' : 'Create webhook'}</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </Card>
  );
}

function DeliveryLog({ hook, canManage }: { hook: Hook; canManage: boolean }) {
  const queryClient = useQueryClient();
  const log = useQuery(trpc.webhooks.deliveries.queryOptions({ id: hook.id, limit: 100 }));
  const resend = useMutation(trpc.webhooks.resend.mutationOptions({ onSuccess: () => void queryClient.invalidateQueries(trpc.webhooks.pathFilter()) }));
  const columns: Column<Delivery>[] = [
    { key: 'time', header: 'Time', cell: (d) => dateTime(d.createdAt), sortValue: (d) => toDate(d.createdAt)?.getTime() },
    { key: 'event', header: 'Event', cell: (d) => d.eventType ?? 'test' },
    { key: 'attempt', header: 'Attempt', numeric: true, cell: (d) => d.attempt },
    { key: 'result', header: 'Result', cell: (d) => <StatusBadge status={d.ok ? 'delivered' : 'failed'} /> },
    { key: 'code', header: 'Answer', numeric: true, cell: (d) => d.statusCode ?? '—' },
    { key: 'state', header: 'Now', cell: (d) => (d.state === 'pending' ? 'will retry' : d.state === 'failed' ? 'gave up' : d.state ?? '—') },
    { key: 'error', header: 'Error', cell: (d) => d.error ?? '' },
    {
      key: 'actions', header: 'Actions', headerHidden: true, numeric: true,
      cell: (d) => (canManage && d.eventId ? (
        <button type="button" className="secondary small" disabled={resend.isPending} aria-label={`Resend event ${d.eventId}`}
          onClick={() => resend.mutate({ id: hook.id, eventId: d.eventId! })}>Resend</button>
      ) : null),
    },
  ];
  return (
    <Card title={`Deliveries of "${hook.name}"`}>
      {resend.error ? <ErrorNote error={resend.error} /> : null}
      {resend.isSuccess ? <p role="status">Queued again: it leaves within a second.</p> : null}
      <DataTable caption={`Deliveries of ${hook.name}`} columns={columns} rows={log.data} rowKey={(d) => String(d.id)}
        empty={<Empty title="Nothing sent yet">Deliveries appear here when events happen.</Empty>} error={log.error} onRetry={() => void log.refetch()} />
    </Card>
  );
}

/** Event webhooks: admins manage them, technicians read them and their delivery log. */
export function WebhooksPage({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const canManage = roleAtLeast(me.role, 'admin');
  const hooks = useQuery(trpc.webhooks.list.queryOptions());
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const refresh = () => void queryClient.invalidateQueries(trpc.webhooks.pathFilter());
  const test = useMutation(trpc.webhooks.test.mutationOptions({ onSettled: refresh }));
  const update = useMutation(trpc.webhooks.update.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.webhooks.delete.mutationOptions({ onSuccess: refresh }));

  const columns: Column<Hook>[] = [
    { key: 'name', header: 'Name', cell: (h) => h.name, sortValue: (h) => h.name },
    { key: 'url', header: 'Receiver', cell: (h) => <code className="small">{h.url}</code> },
    { key: 'events', header: 'Events', cell: (h) => h.eventTypes.join(', ') },
    { key: 'state', header: 'State', cell: (h) => <StatusBadge status={!h.enabled ? 'paused' : h.consecutiveFailures > 0 ? 'failing' : 'active'} /> },
    { key: 'pending', header: 'Waiting', numeric: true, cell: (h) => h.pending },
    { key: 'last', header: 'Last error', cell: (h) => (h.lastError ? `${h.lastError} (${dateTime(h.lastErrorAt)})` : '') },
    {
      key: 'actions', header: 'Actions', headerHidden: true, numeric: true,
      cell: (h) => (
        <span className="row">
          <button type="button" className="secondary small" aria-label={`Deliveries of ${h.name}`} onClick={() => setShown(shown === h.id ? null : h.id)}>Deliveries</button>
          {canManage ? (
            <>
              <button type="button" className="secondary small" disabled={test.isPending} aria-label={`Send test to ${h.name}`} onClick={() => test.mutate({ id: h.id })}>Send test</button>
              <button type="button" className="secondary small" disabled={update.isPending} onClick={() => update.mutate({ id: h.id, enabled: !h.enabled })}>{h.enabled ? 'Pause' : 'Resume'}</button>
              <button type="button" className="danger small" disabled={remove.isPending} aria-label={`Delete webhook ${h.name}`}
                onClick={() => { if (confirm(`Delete "${h.name}"? Events waiting for it are dropped.`)) remove.mutate({ id: h.id }); }}>Delete</button>
            </>
          ) : null}
        </span>
      ),
    },
  ];
  const shownHook = hooks.data?.find((h) => h.id === shown);
  return (
    <>
      <PageHeader title="Webhooks" />
      <p className="muted">
        NinjaIT POSTs each chosen event as JSON to your receiver, signed: <code>X-NinjaIT-Signature: t=…,v1=…</code> is the
        HMAC-SHA256 of <code>t.body</code> with the webhook's secret. <code>X-NinjaIT-Event</code> is the event's id, the same on
        retries and resends, so your receiver can skip one it has already handled. A receiver that fails is retried with backoff.
      </p>
      {canManage ? <NewWebhook onCreated={setCreated} /> : null}
      {created ? (
        <Card title={`Webhook "${created.name}" created`} className="highlight">
          <p>Copy the signing secret now: it is shown only once.</p>
          <div className="copy-line"><code data-testid="new-webhook-secret">{created.secret}</code><CopyButton text={created.secret} label="Copy secret" /></div>
        </Card>
      ) : null}
      {test.data ? <p role="status">{test.data.ok ? `Test delivered (HTTP ${test.data.statusCode ?? 'ok'}).` : `Test failed: ${test.data.error}`}</p> : null}
      {test.error ?? update.error ?? remove.error ? <ErrorNote error={test.error ?? update.error ?? remove.error} /> : null}
      <Card title="Webhooks">
        <DataTable caption="Webhooks" columns={columns} rows={hooks.data} rowKey={(h) => h.id} rowData={(h) => ({ 'data-webhook-id': h.id })}
          empty={<Empty title="No webhooks yet">{canManage ? 'Create one above to send events to another tool.' : 'An admin can create one.'}</Empty>}
          error={hooks.error} onRetry={() => void hooks.refetch()} />
      </Card>
      {shownHook ? <DeliveryLog hook={shownHook} canManage={canManage} /> : null}
    </>
  );
}
