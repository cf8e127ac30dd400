import { useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useFleet, type LiveDevice } from '../lib/live.ts';
import { ago, dateTime, duration, mbits, percent } from '../lib/format.ts';
import { toCsv, downloadText } from '../lib/csv.ts';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { Empty, ErrorNote, PageHeader, Spinner, StatusBadge } from '../components/ui.tsx';
import { useNow } from '../lib/use-now.ts';

type SortKey = 'name' | 'status' | 'os' | 'ip' | 'cpu' | 'memory' | 'disk' | 'network' | 'uptime' | 'lastSeen';

interface Column {
  key: SortKey;
  header: string;
  numeric?: boolean;
  sortValue: (device: LiveDevice) => string | number | null;
}

const net = (device: LiveDevice) => {
  const s = device.summary;
  return s && (s.rxBytesPerSec !== null || s.txBytesPerSec !== null) ? (s.rxBytesPerSec ?? 0) + (s.txBytesPerSec ?? 0) : null;
};
const osOf = (device: LiveDevice) => [device.osType, device.osVersion].filter(Boolean).join(' · ');

const COLUMNS: Column[] = [
  { key: 'status', header: 'Status', sortValue: (d) => d.status },
  { key: 'name', header: 'Name', sortValue: (d) => d.name.toLowerCase() },
  { key: 'os', header: 'OS', sortValue: (d) => osOf(d).toLowerCase() },
  { key: 'ip', header: 'IP address', sortValue: (d) => d.ipAddress },
  { key: 'cpu', header: 'CPU', numeric: true, sortValue: (d) => d.summary?.cpuPercent ?? null },
  { key: 'memory', header: 'Memory', numeric: true, sortValue: (d) => d.summary?.memoryPercent ?? null },
  { key: 'disk', header: 'Disk', numeric: true, sortValue: (d) => d.summary?.diskPercent ?? null },
  { key: 'network', header: 'Network', numeric: true, sortValue: net },
  { key: 'uptime', header: 'Uptime', numeric: true, sortValue: (d) => d.summary?.uptimeSec ?? null },
  { key: 'lastSeen', header: 'Last seen', numeric: true, sortValue: (d) => (d.lastSeen ? Date.parse(d.lastSeen) : null) },
];

const ROW_HEIGHT_PX = 40;

function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** Filters live in the URL, so a filtered view can be shared and survives reloads. */
function useFilters() {
  const { path, search } = useLocation();
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    const query = next.toString();
    navigate(`${path}${query ? `?${query}` : ''}`, { replace: true });
  };
  return {
    q: search.get('q') ?? '',
    status: search.get('status') ?? '',
    os: search.get('os') ?? '',
    sort: (search.get('sort') as SortKey | null) ?? 'name',
    dir: search.get('dir') === 'desc' ? 'desc' : 'asc',
    set,
  };
}

export function DevicesPage() {
  const fleet = useFleet();
  const filters = useFilters();
  const [query, setQuery] = useState(filters.q);
  const now = useNow(5_000);
  const scroller = useRef<HTMLDivElement>(null);

  const osTypes = useMemo(() => [...new Set(fleet.devices.map((d) => d.osType).filter((x): x is string => !!x))].sort(), [fleet.devices]);

  const rows = useMemo(() => {
    const needle = filters.q.trim().toLowerCase();
    const column = COLUMNS.find((c) => c.key === filters.sort) ?? COLUMNS[1]!;
    const sign = filters.dir === 'desc' ? -1 : 1;
    return fleet.devices
      .filter((d) => !filters.status || d.status === filters.status)
      .filter((d) => !filters.os || d.osType === filters.os)
      .filter((d) => !needle || `${d.name} ${d.ipAddress ?? ''} ${osOf(d)} ${d.id}`.toLowerCase().includes(needle))
      .sort((a, b) => sign * compare(column.sortValue(a), column.sortValue(b)) || a.name.localeCompare(b.name));
  }, [fleet.devices, filters.q, filters.status, filters.os, filters.sort, filters.dir]);

  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT_PX,
    overscan: 12,
  });

  const sortBy = (key: SortKey) => {
    const dir = filters.sort === key && filters.dir === 'asc' ? 'desc' : 'asc';
    const next = new URLSearchParams(location.search);
    next.set('sort', key);
    next.set('dir', dir);
    navigate(`/devices?${next.toString()}`, { replace: true });
  };

  const exportCsv = () => {
    const csv = toCsv(rows, [
      { header: 'id', value: (d) => d.id },
      { header: 'name', value: (d) => d.name },
      { header: 'status', value: (d) => d.status },
      { header: 'os_type', value: (d) => d.osType },
      { header: 'os_version', value: (d) => d.osVersion },
      { header: 'ip_address', value: (d) => d.ipAddress },
      { header: 'cpu_percent', value: (d) => d.summary?.cpuPercent?.toFixed(1) },
      { header: 'memory_percent', value: (d) => d.summary?.memoryPercent?.toFixed(1) },
      { header: 'disk_percent', value: (d) => d.summary?.diskPercent?.toFixed(1) },
      { header: 'rx_mbit_s', value: (d) => (d.summary?.rxBytesPerSec != null ? ((d.summary.rxBytesPerSec * 8) / 1e6).toFixed(3) : '') },
      { header: 'tx_mbit_s', value: (d) => (d.summary?.txBytesPerSec != null ? ((d.summary.txBytesPerSec * 8) / 1e6).toFixed(3) : '') },
      { header: 'uptime_sec', value: (d) => d.summary?.uptimeSec },
      { header: 'last_seen', value: (d) => d.lastSeen },
      { header: 'agent_version', value: (d) => d.agentVersion },
    ]);
    downloadText(`ninjait-devices-${new Date().toISOString().slice(0, 10)}.csv`, csv);
  };

  return (
    <>
      <PageHeader title="Devices">
        <button type="button" className="secondary" onClick={exportCsv} disabled={rows.length === 0}>Export CSV ({rows.length})</button>
      </PageHeader>
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span className="sr-only">Search devices</span>
          <input
            type="search"
            placeholder="Search name, IP, OS…"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              filters.set('q', e.target.value);
            }}
          />
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(e) => filters.set('status', e.target.value)}>
            <option value="">All</option>
            <option value="online">Online</option>
            <option value="offline">Offline</option>
            <option value="pending">Pending</option>
          </select>
        </label>
        <label>
          OS
          <select value={filters.os} onChange={(e) => filters.set('os', e.target.value)}>
            <option value="">All</option>
            {osTypes.map((os) => <option key={os} value={os}>{os}</option>)}
          </select>
        </label>
        <span className="muted small" aria-live="polite">{rows.length} of {fleet.devices.length} devices</span>
      </form>
      {fleet.status === 'error' ? <ErrorNote error={fleet.error} /> : null}
      {fleet.status === 'connecting' ? <Spinner /> : fleet.devices.length === 0 ? (
        <Empty title="No devices enrolled yet">Create a token on the <Link to="/tokens">Enrollment</Link> page to add one.</Empty>
      ) : (
        <div className="vtable" role="table" aria-label="Devices" aria-rowcount={rows.length + 1}>
          <div className="vrow vhead" role="row" aria-rowindex={1}>
            {COLUMNS.map((column) => (
              <div
                key={column.key}
                role="columnheader"
                className={`col-${column.key} ${column.numeric ? 'num' : ''}`}
                aria-sort={filters.sort === column.key ? (filters.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
              >
                <button type="button" className="sort" onClick={() => sortBy(column.key)}>
                  {column.header}
                  <span aria-hidden="true">{filters.sort === column.key ? (filters.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                </button>
              </div>
            ))}
          </div>
          <div ref={scroller} className="vbody" role="rowgroup">
            {rows.length === 0 ? <Empty title="No device matches these filters" /> : null}
            <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
              {virtual.getVirtualItems().map((item) => {
                const d = rows[item.index]!;
                const s = d.summary;
                return (
                  <div
                    key={d.id}
                    className="vrow"
                    role="row"
                    aria-rowindex={item.index + 2}
                    data-device-id={d.id}
                    style={{ position: 'absolute', top: 0, transform: `translateY(${item.start}px)`, height: ROW_HEIGHT_PX }}
                  >
                    <div role="cell"><StatusBadge status={d.status} /></div>
                    <div role="cell" className="ellipsis"><Link to={`/devices/${d.id}`}>{d.name}</Link></div>
                    <div role="cell" className="ellipsis" title={osOf(d)}>{osOf(d) || '—'}</div>
                    <div role="cell" className="mono col-ip">{d.ipAddress ?? '—'}</div>
                    <div role="cell" className="num">{percent(s?.cpuPercent)}</div>
                    <div role="cell" className="num">{percent(s?.memoryPercent)}</div>
                    <div role="cell" className="num">{percent(s?.diskPercent)}</div>
                    <div role="cell" className="num" title={`in ${mbits(s?.rxBytesPerSec)} / out ${mbits(s?.txBytesPerSec)}`}>{mbits(net(d))}</div>
                    <div role="cell" className="num col-uptime">{duration(s?.uptimeSec)}</div>
                    <div role="cell" className="num" title={dateTime(d.lastSeen)}>{ago(d.lastSeen, now)}</div>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
      )}
    </>
  );
}
