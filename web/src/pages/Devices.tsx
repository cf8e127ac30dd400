import { useEffect, useRef, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { api } from '../lib/trpc.ts';
import {
  fetchAllDevices, FLEET_REFRESH_MS, PAGE_SIZE, useDeviceCounts, type DeviceListInput, type DeviceRow, type DeviceSortKey,
} from '../lib/fleet.ts';
import { ago, count, dateTime, duration, label, mbits, percent } from '../lib/format.ts';
import { toCsv, downloadText } from '../lib/csv.ts';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { Empty, ErrorNote, PageHeader, Spinner, StatusBadge } from '../components/ui.tsx';
import { Pager, useCursorPages } from '../components/Pager.tsx';
import { useNow } from '../lib/use-now.ts';

interface Column {
  key: string;
  header: string;
  numeric?: boolean;
  /** Columns the server can sort the whole fleet by; the others hold live values, not indexed columns. */
  sort?: DeviceSortKey;
}

const COLUMNS: Column[] = [
  { key: 'status', header: 'Status', sort: 'status' },
  { key: 'name', header: 'Name', sort: 'name' },
  { key: 'os', header: 'OS' },
  { key: 'ip', header: 'IP address' },
  { key: 'cpu', header: 'CPU', numeric: true },
  { key: 'memory', header: 'Memory', numeric: true },
  { key: 'disk', header: 'Disk', numeric: true },
  { key: 'network', header: 'Network', numeric: true },
  { key: 'uptime', header: 'Uptime', numeric: true },
  { key: 'lastSeen', header: 'Last seen', numeric: true, sort: 'lastSeen' },
];
const SORTS: readonly DeviceSortKey[] = ['name', 'status', 'lastSeen'];
const STATUSES = ['online', 'offline', 'pending'] as const;
const ROW_HEIGHT_PX = 40;
/** Typing settles this long before the search goes to the server. */
const SEARCH_DEBOUNCE_MS = 300;

const net = (device: DeviceRow) => {
  const s = device.summary;
  return s && (s.rxBytesPerSec !== null || s.txBytesPerSec !== null) ? (s.rxBytesPerSec ?? 0) + (s.txBytesPerSec ?? 0) : null;
};
const osOf = (device: DeviceRow) => [device.osType, device.osVersion].filter(Boolean).join(' · ');

/** Filters and sort live in the URL, so a filtered view can be shared and survives reloads. */
function useFilters() {
  const { path, search } = useLocation();
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(search);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    const query = next.toString();
    navigate(`${path}${query ? `?${query}` : ''}`, { replace: true });
  };
  const sort = search.get('sort') as DeviceSortKey | null;
  const status = search.get('status') as (typeof STATUSES)[number] | null;
  return {
    q: search.get('q') ?? '',
    status: status && STATUSES.includes(status) ? status : ('' as const),
    os: search.get('os') ?? '',
    sort: sort && SORTS.includes(sort) ? sort : ('name' as const),
    dir: search.get('dir') === 'desc' ? 'desc' as const : 'asc' as const,
    set,
  };
}

function exportColumns() {
  return [
    { header: 'id', value: (d: DeviceRow) => d.id },
    { header: 'name', value: (d: DeviceRow) => d.name },
    { header: 'status', value: (d: DeviceRow) => d.status },
    { header: 'os_type', value: (d: DeviceRow) => d.osType },
    { header: 'os_version', value: (d: DeviceRow) => d.osVersion },
    { header: 'ip_address', value: (d: DeviceRow) => d.ipAddress },
    { header: 'cpu_percent', value: (d: DeviceRow) => d.summary?.cpuPercent?.toFixed(1) },
    { header: 'memory_percent', value: (d: DeviceRow) => d.summary?.memoryPercent?.toFixed(1) },
    { header: 'disk_percent', value: (d: DeviceRow) => d.summary?.diskPercent?.toFixed(1) },
    { header: 'rx_mbit_s', value: (d: DeviceRow) => (d.summary?.rxBytesPerSec != null ? ((d.summary.rxBytesPerSec * 8) / 1e6).toFixed(3) : '') },
    { header: 'tx_mbit_s', value: (d: DeviceRow) => (d.summary?.txBytesPerSec != null ? ((d.summary.txBytesPerSec * 8) / 1e6).toFixed(3) : '') },
    { header: 'uptime_sec', value: (d: DeviceRow) => d.summary?.uptimeSec },
    { header: 'last_seen', value: (d: DeviceRow) => d.lastSeen },
    { header: 'agent_version', value: (d: DeviceRow) => d.agentVersion },
  ];
}

function DeviceTable({ rows, sort, dir, onSort }: { rows: DeviceRow[]; sort: DeviceSortKey; dir: 'asc' | 'desc'; onSort: (key: DeviceSortKey) => void }) {
  const now = useNow(5_000);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT_PX, overscan: 12 });
  return (
    <div className="vtable" role="table" aria-label="Devices" aria-rowcount={rows.length + 1}>
      <div className="vrow vhead" role="row" aria-rowindex={1}>
        {COLUMNS.map((column) => (
          <div
            key={column.key}
            role="columnheader"
            className={`col-${column.key} ${column.numeric ? 'num' : ''}`}
            aria-sort={column.sort && sort === column.sort ? (dir === 'asc' ? 'ascending' : 'descending') : column.sort ? 'none' : undefined}
          >
            {column.sort ? (
              <button type="button" className="sort" onClick={() => onSort(column.sort!)}>
                {column.header}
                <span aria-hidden="true">{sort === column.sort ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
              </button>
            ) : <span className="sort">{column.header}</span>}
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
  );
}

/** The fleet, one server-side page at a time: the server filters, sorts, counts and pages; this page only shows. */
export function DevicesPage() {
  const filters = useFilters();
  const [query, setQuery] = useState(filters.q);
  const [exporting, setExporting] = useState<unknown>(false);
  const counts = useDeviceCounts();

  useEffect(() => {
    if (query === filters.q) return;
    const timer = setTimeout(() => filters.set({ q: query }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  });

  const scope: Omit<DeviceListInput, 'cursor' | 'limit'> = {
    sort: filters.sort, dir: filters.dir,
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.os ? { osType: filters.os } : {}),
    ...(filters.q.trim() ? { search: filters.q.trim() } : {}),
  };
  const pages = useCursorPages(JSON.stringify(scope));
  const input: DeviceListInput = { ...scope, limit: PAGE_SIZE, ...(pages.cursor ? { cursor: pages.cursor } : {}) };
  const list = useQuery({
    queryKey: ['devices.list', input],
    queryFn: () => api().devices.list.query(input),
    refetchInterval: FLEET_REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  const total = list.data?.total ?? 0;
  const filtered = Boolean(scope.status || scope.osType || scope.search);

  const sortBy = (key: DeviceSortKey) => filters.set({ sort: key, dir: filters.sort === key && filters.dir === 'asc' ? 'desc' : 'asc' });
  const exportCsv = async () => {
    setExporting(true);
    try {
      const rows = await fetchAllDevices(scope);
      downloadText(`ninjait-devices-${new Date().toISOString().slice(0, 10)}.csv`, toCsv(rows, exportColumns()));
      setExporting(false);
    } catch (error) {
      setExporting(error);
    }
  };

  return (
    <>
      <PageHeader title="Devices">
        <button type="button" className="secondary" onClick={() => void exportCsv()} disabled={total === 0 || exporting === true}>
          {exporting === true ? 'Exporting…' : `Export CSV (${total})`}
        </button>
      </PageHeader>
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span className="sr-only">Search devices</span>
          <input type="search" placeholder="Search by name…" value={query} maxLength={255} onChange={(e) => setQuery(e.target.value)} />
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(e) => filters.set({ status: e.target.value })}>
            <option value="">All</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {label(status)}{counts.data ? ` (${count(counts.data.byStatus[status])})` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          OS
          <select value={filters.os} onChange={(e) => filters.set({ os: e.target.value })}>
            <option value="">All</option>
            {(counts.data?.osTypes ?? []).map((os) => <option key={os} value={os}>{os}</option>)}
          </select>
        </label>
        <span className="muted small" aria-live="polite">
          {!list.data ? '' : filtered ? `${count(total)} of ${count(counts.data?.total ?? total)} devices` : `${count(total)} devices`}
        </span>
      </form>
      {exporting !== true && exporting ? <ErrorNote error={exporting} /> : null}
      {list.error ? <ErrorNote error={list.error} onRetry={pages.cursor ? pages.first : () => void list.refetch()} /> : null}
      {list.isPending ? <Spinner /> : counts.data?.total === 0 && total === 0 ? (
        <Empty title="No devices enrolled yet">Create a token on the <Link to="/tokens">Enrollment</Link> page to add one.</Empty>
      ) : list.data ? (
        <>
          <DeviceTable rows={list.data.items} sort={filters.sort} dir={filters.dir} onSort={sortBy} />
          <Pager
            page={pages.page}
            pages={Math.ceil(total / PAGE_SIZE)}
            hasNext={list.data.nextCursor !== null}
            busy={list.isPlaceholderData}
            onFirst={pages.first}
            onPrevious={pages.previous}
            onNext={() => list.data?.nextCursor && pages.next(list.data.nextCursor)}
          />
        </>
      ) : null}
    </>
  );
}
