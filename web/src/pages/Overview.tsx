import { useQuery } from '@tanstack/react-query';
import { useFleet, type LiveDevice } from '../lib/live.ts';
import { api } from '../lib/trpc.ts';
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

function StatusCounts({ devices }: { devices: LiveDevice[] }) {
  const counts = new Map<string, number>();
  for (const device of devices) counts.set(device.status, (counts.get(device.status) ?? 0) + 1);
  return (
    <div className="stat-grid" role="list" aria-label="Devices by status">
      <div className="stat" role="listitem">
        <span className="stat-value">{devices.length}</span>
        <span className="stat-label">Devices</span>
      </div>
      {STATUSES.map((status) => (
        <Link key={status} to={`/devices?status=${status}`} className={`stat stat-${status}`} role="listitem">
          <span className="stat-value">{counts.get(status) ?? 0}</span>
          <span className="stat-label">{label(status)}</span>
        </Link>
      ))}
    </div>
  );
}

function TopCpu({ devices }: { devices: LiveDevice[] }) {
  const top = devices
    .filter((device) => device.status === 'online' && device.summary?.cpuPercent !== null && device.summary?.cpuPercent !== undefined)
    .sort((a, b) => b.summary!.cpuPercent! - a.summary!.cpuPercent!)
    .slice(0, 10);
  if (top.length === 0) return <Empty title="No CPU readings yet">Online devices appear here with their current load.</Empty>;
  return (
    <ol className="bars" aria-label="Top CPU">
      {top.map((device) => {
        const value = device.summary!.cpuPercent!;
        return (
          <li key={device.id}>
            <Link to={`/devices/${device.id}`}>{device.name}</Link>
            <span className="bar" aria-hidden="true"><span style={{ width: `${Math.min(100, value)}%` }} /></span>
            <span className="num">{percent(value)}</span>
          </li>
        );
      })}
    </ol>
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
  const fleet = useFleet();
  const me = useMe();
  const isAdmin = roleAtLeast(me.data?.role, 'admin');
  return (
    <>
      <PageHeader title="Fleet overview">
        <span className="live-indicator" data-status={fleet.status}>
          {fleet.status === 'live' ? 'Live' : fleet.status === 'connecting' ? 'Connecting…' : 'Disconnected'}
        </span>
      </PageHeader>
      {fleet.status === 'error' ? <ErrorNote error={fleet.error} /> : null}
      {fleet.status === 'connecting' ? <Spinner /> : <StatusCounts devices={fleet.devices} />}
      <StatusView />
      {fleet.status === 'live' && fleet.devices.length === 0 ? (
        <Empty title="No devices enrolled yet">
          Create an enrollment token on the <Link to="/tokens">Enrollment</Link> page and run its install line on a machine.
        </Empty>
      ) : null}
      <div className="grid-2">
        <Card title="Top CPU now"><TopCpu devices={fleet.devices} /></Card>
        <Card title="Uptime leaderboard"><UptimeLeaderboard /></Card>
        <Card title="Store health"><StoreHealthCard /></Card>
        {isAdmin ? <Card title="Errors in the last hour"><RecentErrors /></Card> : null}
        <Card title="Offline devices">
          {(() => {
            const offline = fleet.devices.filter((device) => device.status === 'offline').slice(0, 8);
            if (offline.length === 0) return <Empty title="Every device is reporting" />;
            return (
              <ul className="plain">
                {offline.map((device) => (
                  <li key={device.id}><StatusBadge status={device.status} /> <Link to={`/devices/${device.id}`}>{device.name}</Link></li>
                ))}
              </ul>
            );
          })()}
        </Card>
      </div>
    </>
  );
}
