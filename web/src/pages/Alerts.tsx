import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { roleAtLeast, useMe } from '../lib/auth.ts';
import { dateTime, label } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, Empty, ErrorNote, PageHeader, QueryView } from '../components/ui.tsx';

export type Alert = Outputs['alerts']['list'][number];
const STATES = ['open', 'acknowledged', 'resolved'] as const;
const SEVERITIES = ['critical', 'warning', 'info'] as const;
type State = (typeof STATES)[number];
type Severity = (typeof SEVERITIES)[number];

/** What an alert's flags mean to a technician, and its ticket. */
function Notes({ alert }: { alert: Alert }) {
  const quiet = [
    alert.muted ? 'in a maintenance window: nobody was notified' : null,
    alert.flapping ? 'opened often lately (flapping): nobody was notified' : null,
  ].filter(Boolean).join(' · ');
  return (
    <span className="muted small">
      {quiet ? ` · ${quiet}` : null}
      {alert.ticketId ? <> · <Link to={`/tickets/${alert.ticketId}`}>ticket</Link></> : null}
    </span>
  );
}

/** A table of alerts; with `canAct`, checkboxes and buttons to acknowledge or resolve them (one or many). */
export function AlertTable({ alerts, canAct, showDevice = true }: { alerts: Alert[]; canAct: boolean; showDevice?: boolean }) {
  const queryClient = useQueryClient();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const options = {
    onSuccess: () => {
      setChosen(new Set());
      // Every alerts query (the inbox with any filter, a device's history) shows the changed states.
      void queryClient.invalidateQueries(trpc.alerts.pathFilter());
    },
  };
  const acknowledge = useMutation(trpc.alerts.acknowledge.mutationOptions(options));
  const resolve = useMutation(trpc.alerts.resolve.mutationOptions(options));
  // The buttons share one outcome line: it tells what the last action did, whichever it was.
  const [last, setLast] = useState<'acknowledge' | 'resolve'>('acknowledge');
  const change = last === 'acknowledge' ? acknowledge : resolve;
  const changing = acknowledge.isPending || resolve.isPending;
  const active = alerts.filter((a) => a.state !== 'resolved');
  const toggle = (id: string) => setChosen((now) => {
    const next = new Set(now);
    if (next.has(id)) next.delete(id); else next.add(id);
    return next;
  });
  const act = (action: 'acknowledge' | 'resolve', ids: string[]) => {
    setLast(action);
    (action === 'acknowledge' ? acknowledge : resolve).mutate({ ids });
  };
  return (
    <>
      {canAct && active.length > 0 ? (
        <div className="row wrap">
          <button type="button" className="secondary small" disabled={chosen.size === 0 || changing} onClick={() => act('acknowledge', [...chosen])}>
            Acknowledge selected ({chosen.size})
          </button>
          <button type="button" className="secondary small" disabled={chosen.size === 0 || changing} onClick={() => act('resolve', [...chosen])}>
            Resolve selected ({chosen.size})
          </button>
        </div>
      ) : null}
      {change.error ? <ErrorNote error={change.error} /> : null}
      {change.data && change.data.failed.length > 0 ? (
        <p className="muted" role="status">{change.data.failed.length} could not change: {change.data.failed[0]!.reason}</p>
      ) : null}
      <div className="table-wrap">
        <table className="table" data-testid="alerts-table">
          <caption className="sr-only">Alerts</caption>
          <thead>
            <tr>
              {canAct ? <th scope="col"><span className="sr-only">Select</span></th> : null}
              <th scope="col">State</th><th scope="col">Severity</th>{showDevice ? <th scope="col">Device</th> : null}
              <th scope="col">What</th><th scope="col">Opened</th><th scope="col">Resolved</th>{canAct ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {alerts.map((alert) => (
              <tr key={alert.id} data-testid="alert-row" data-state={alert.state}>
                {canAct ? (
                  <td>
                    {alert.state !== 'resolved' ? (
                      <input type="checkbox" aria-label={`Select ${alert.title}`} checked={chosen.has(alert.id)} onChange={() => toggle(alert.id)} />
                    ) : null}
                  </td>
                ) : null}
                <td><span className={`badge ${alert.state}`}>{label(alert.state)}</span></td>
                <td><span className={`badge severity-${alert.severity}`}>{label(alert.severity)}</span></td>
                {showDevice ? <td><Link to={`/devices/${alert.deviceId}`}>{alert.deviceName}</Link></td> : null}
                <td className="details">{alert.title}<Notes alert={alert} /></td>
                <td className="nowrap">{dateTime(alert.openedAt)}</td>
                <td className="nowrap">{alert.resolvedAt ? `${dateTime(alert.resolvedAt)}${alert.resolution === 'auto' ? ' (cleared)' : ''}` : '—'}</td>
                {canAct ? (
                  <td className="nowrap">
                    {alert.state === 'open' ? <button type="button" className="secondary small" disabled={changing} onClick={() => act('acknowledge', [alert.id])}>Acknowledge</button> : null}
                    {alert.state !== 'resolved' ? <button type="button" className="secondary small" disabled={changing} onClick={() => act('resolve', [alert.id])}>Resolve</button> : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** The alerts inbox: what needs a technician now, filterable; acknowledge or resolve one or many. */
export function AlertsPage() {
  const me = useMe();
  const [state, setState] = useState<State | ''>('open');
  const [severity, setSeverity] = useState<Severity | ''>('');
  const alerts = useQuery(trpc.alerts.list.queryOptions(
    { limit: 200, ...(state ? { state } : {}), ...(severity ? { severity } : {}) },
    { refetchInterval: 10_000 },
  ));
  const canAct = roleAtLeast(me.data?.role ?? 'viewer', 'technician');
  return (
    <>
      <PageHeader title="Alerts">
        {roleAtLeast(me.data?.role ?? 'viewer', 'admin') ? <Link to="/alerts/settings">Rules, channels and maintenance</Link> : null}
      </PageHeader>
      <Card>
        <div className="row wrap align-end">
          <label>
            State
            <select aria-label="State" value={state} onChange={(e) => setState(e.target.value as State | '')}>
              <option value="">Any</option>
              {STATES.map((s) => <option key={s} value={s}>{label(s)}</option>)}
            </select>
          </label>
          <label>
            Severity
            <select aria-label="Severity" value={severity} onChange={(e) => setSeverity(e.target.value as Severity | '')}>
              <option value="">Any</option>
              {SEVERITIES.map((s) => <option key={s} value={s}>{label(s)}</option>)}
            </select>
          </label>
        </div>
        <QueryView query={alerts} empty={(list) => (list.length === 0 ? <Empty title={state === 'open' ? 'No open alerts: nothing needs you right now' : 'No alerts match'} /> : null)}>
          {(list) => <AlertTable alerts={list} canAct={canAct} />}
        </QueryView>
      </Card>
    </>
  );
}

/** A device's alerts, newest first (its page's "Alerts" tab). */
export function DeviceAlerts({ deviceId, canAct }: { deviceId: string; canAct: boolean }) {
  const alerts = useQuery(trpc.alerts.list.queryOptions({ deviceId, limit: 100 }));
  return (
    <Card title="Alert history">
      <QueryView query={alerts} empty={(list) => (list.length === 0 ? <Empty title="No alerts for this device" /> : null)}>
        {(list) => <AlertTable alerts={list} canAct={canAct} showDevice={false} />}
      </QueryView>
    </Card>
  );
}
