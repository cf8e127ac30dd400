import { useQuery } from '@tanstack/react-query';
import { api, type Outputs } from '../lib/trpc.ts';
import { COUNTS_REFRESH_MS, useDeviceCounts } from '../lib/fleet.ts';
import { roleAtLeast, useMe } from '../lib/auth.ts';
import { count, dateTime, duration, percent, label } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, Empty, ErrorNote, PageHeader, QueryView, Spinner, StatusBadge } from '../components/ui.tsx';

type StoreHealth = { ok: true; engine: string; latencyMs: number } | { ok: false; engine: string; error: string };
interface Readiness {
  ready: boolean;
  stores: Record<string, StoreHealth>;
}

const STATUSES = ['online', 'offline', 'pending'] as const;
/** The overview's lists are a few rows each: a small page of the fleet, never all of it. */
const OFFLINE_SHOWN = 8;

function StatusCounts({ counts }: { counts: Outputs['devices']['counts'] }) {
  return (
    <div className="stat-grid" role="list" aria-label="Devices by status">
      <div className="stat" role="listitem">
        <span className="stat-value">{count(counts.total)}</span>
        <span className="stat-label">Devices</span>
      </div>
      {STATUSES.map((status) => (
        <Link key={status} to={`/devices?status=${status}`} className={`stat stat-${status}`} role="listitem">
          <span className="stat-value">{count(counts.byStatus[status])}</span>
          <span className="stat-label">{label(status)}</span>
        </Link>
      ))}
    </div>
  );
}

/** Ranked by the server from each device's latest sample; online devices only. */
function TopCpu() {
  const top = useQuery({ queryKey: ['devices.topCpu'], queryFn: () => api().devices.topCpu.query(), refetchInterval: COUNTS_REFRESH_MS });
  return (
    <QueryView query={top} empty={(rows) => (rows.length === 0 ? <Empty title="No CPU readings yet">Online devices appear here with their current load.</Empty> : null)}>
      {(rows) => (
        <ol className="bars" aria-label="Top CPU">
          {rows.map((row) => (
            <li key={row.deviceId}>
              <Link to={`/devices/${row.deviceId}`}>{row.name}</Link>
              <span className="bar" aria-hidden="true"><span style={{ width: `${Math.min(100, row.cpuPercent)}%` }} /></span>
              <span className="num">{percent(row.cpuPercent)}</span>
            </li>
          ))}
        </ol>
      )}
    </QueryView>
  );
}

/** The devices that went quiet most recently. */
function OfflineDevices() {
  const input = { status: 'offline', sort: 'lastSeen', dir: 'desc', limit: OFFLINE_SHOWN } as const;
  const offline = useQuery({ queryKey: ['devices.list', input], queryFn: () => api().devices.list.query(input), refetchInterval: 30_000 });
  return (
    <QueryView query={offline} empty={(page) => (page.items.length === 0 ? <Empty title="Every device is reporting" /> : null)}>
      {(page) => (
        <>
          <ul className="plain">
            {page.items.map((device) => (
              <li key={device.id}><StatusBadge status={device.status} /> <Link to={`/devices/${device.id}`}>{device.name}</Link></li>
            ))}
          </ul>
          {page.total > page.items.length ? <Link to="/devices?status=offline" className="small">All {count(page.total)} offline devices</Link> : null}
        </>
      )}
    </QueryView>
  );
}

function UptimeLeaderboard() {
  const board = useQuery({ queryKey: ['metrics.uptimeLeaderboard'], queryFn: () => api().metrics.uptimeLeaderboard.query(), refetchInterval: 30_000 });
  return (
    <QueryView query={board} empty={(rows) => (rows.length === 0 ? <Empty title="No uptime recorded yet" /> : null)}>
      {(rows) => (
        <ol className="leaderboard">
          {rows.map((row) => (
            <li key={row.deviceId}>
              <Link to={`/devices/${row.deviceId}`}>{row.name}</Link>
              <StatusBadge status={row.status} />
              <span className="num">{duration(row.uptimeSec)}</span>
            </li>
          ))}
        </ol>
      )}
    </QueryView>
  );
}

/** The analytics engine's real-time status view, next to the live counts (they agree once its sync ran). */
function StatusView() {
  const view = useQuery({ queryKey: ['analytics.deviceStatusCounts'], queryFn: () => api().analytics.deviceStatusCounts.query(), refetchInterval: 5 * 60_000 });
  if (!view.data || view.data.length === 0) return null;
  return (
    <p className="muted small">
      Status view (analytics): {view.data.map((row) => `${label(row.status)} ${count(row.totalDevices)}`).join(' · ')}
    </p>
  );
}

/** Admins: the organization's errors in the last hour, newest first. */
function RecentErrors() {
  const errors = useQuery({ queryKey: ['logs.recentErrors'], queryFn: () => api().logs.recentErrors.query(), refetchInterval: 5 * 60_000 });
  return (
    <QueryView query={errors} empty={(rows) => (rows.length === 0 ? <Empty title="No errors in the last hour" /> : null)}>
      {(rows) => (
        <ul className="plain errors-list">
          {rows.slice(0, 8).map((row) => (
            <li key={row.id}>
              <span className="muted small">{dateTime(row.timestamp)}</span> {row.deviceId ? <Link to={`/devices/${row.deviceId}`}>device</Link> : null} {row.message}
            </li>
          ))}
        </ul>
      )}
    </QueryView>
  );
}

function StoreHealthCard() {
  const health = useQuery({
    queryKey: ['readyz'],
    queryFn: async (): Promise<Readiness> => {
      const response = await fetch('/readyz', { cache: 'no-store' });
      return (await response.json()) as Readiness;
    },
    refetchInterval: 30_000,
  });
  if (health.error) return <ErrorNote error={health.error} onRetry={() => void health.refetch()} />;
  if (!health.data) return <Spinner />;
  return (
    <ul className="health" aria-label="Store health">
      {Object.entries(health.data.stores).map(([name, store]) => (
        <li key={name}>
          <span className={`dot ${store.ok ? 'dot-ok' : 'dot-bad'}`} aria-hidden="true" />
          <strong>{label(name)}</strong> <span className="muted">{store.engine}</span>
          <span className="num">{store.ok ? `${store.latencyMs.toFixed(1)} ms` : <span className="bad-text">{store.error}</span>}</span>
          <span className="sr-only">{store.ok ? 'healthy' : 'failing'}</span>
        </li>
      ))}
    </ul>
  );
}

export function OverviewPage() {
  const counts = useDeviceCounts();
  const me = useMe();
  const isAdmin = roleAtLeast(me.data?.role, 'admin');
  const state = counts.error ? 'error' : counts.data ? 'live' : 'connecting';
  return (
    <>
      <PageHeader title="Fleet overview">
        <span className="live-indicator" data-status={state} title={`Refreshed every ${COUNTS_REFRESH_MS / 1000} s`}>
          {state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Disconnected'}
        </span>
      </PageHeader>
      {counts.error ? <ErrorNote error={counts.error} onRetry={() => void counts.refetch()} /> : null}
      {counts.data ? <StatusCounts counts={counts.data} /> : counts.error ? null : <Spinner />}
      <StatusView />
      {counts.data?.total === 0 ? (
        <Empty title="No devices enrolled yet">
          Create an enrollment token on the <Link to="/tokens">Enrollment</Link> page and run its install line on a machine.
        </Empty>
      ) : null}
      <div className="grid-2">
        <Card title="Top CPU now"><TopCpu /></Card>
        <Card title="Uptime leaderboard"><UptimeLeaderboard /></Card>
        <Card title="Store health"><StoreHealthCard /></Card>
        {isAdmin ? <Card title="Errors in the last hour"><RecentErrors /></Card> : null}
        <Card title="Offline devices"><OfflineDevices /></Card>
      </div>
    </>
  );
}
