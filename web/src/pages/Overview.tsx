import { useQuery } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { COUNTS_REFRESH_MS, useDeviceCounts } from '../lib/fleet.ts';
import { count, counted, duration, percent, label } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, Empty, ErrorNote, PageHeader, QueryView, Spinner, StatusBadge } from '../components/ui.tsx';

const STATUSES = ['online', 'offline', 'pending'] as const;
/** The overview's lists are a few rows each: a small page of the fleet, never all of it. */
const OFFLINE_SHOWN = 8;

function StatusCounts({ counts }: { counts: Outputs['devices']['counts'] }) {
  return (
    <div className="stat-grid" role="list" aria-label="Devices by status">
      <div className="stat" role="listitem">
        <span className="stat-value">{count(counts.total)}</span>
        <span className="stat-label">{counts.total === 1 ? 'Device' : 'Devices'}</span>
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
  const top = useQuery(trpc.devices.topCpu.queryOptions(undefined, { refetchInterval: COUNTS_REFRESH_MS }));
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
  const offline = useQuery(trpc.devices.list.queryOptions(input, { refetchInterval: 30_000 }));
  return (
    <QueryView query={offline} empty={(page) => (page.items.length === 0 ? <Empty title="Every device is reporting" /> : null)}>
      {(page) => (
        <>
          <ul className="plain">
            {page.items.map((device) => (
              <li key={device.id}><StatusBadge status={device.status} /> <Link to={`/devices/${device.id}`}>{device.name}</Link></li>
            ))}
          </ul>
          {page.total > page.items.length ? <Link to="/devices?status=offline" className="small">All {counted(page.total, 'offline device')}</Link> : null}
        </>
      )}
    </QueryView>
  );
}

function UptimeLeaderboard() {
  const board = useQuery(trpc.metrics.uptimeLeaderboard.queryOptions(undefined, { refetchInterval: 30_000 }));
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

/** The fleet's health at a glance; the server's own health is on the System page (admins). */
export function OverviewPage() {
  const counts = useDeviceCounts();
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
      {counts.data?.total === 0 ? (
        <Empty title="No devices enrolled yet">
          Create an enrollment token on the <Link to="/tokens">Enrollment</Link> page and run its install line on a machine.
        </Empty>
      ) : null}
      <div className="grid-2">
        <Card title="Top CPU now"><TopCpu /></Card>
        <Card title="Uptime leaderboard"><UptimeLeaderboard /></Card>
        <Card title="Offline devices"><OfflineDevices /></Card>
      </div>
    </>
  );
}
