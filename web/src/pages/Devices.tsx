import { useEffect, useRef, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { trpc } from '../lib/trpc-query.ts';
import {
  fetchAllDevices, FLEET_REFRESH_MS, PAGE_SIZE, useDeviceCounts, type DeviceListInput, type DeviceRow, type DeviceSortKey,
} from '../lib/fleet.ts';
import { ago, count, counted, dateTime, duration, label, mbits, percent } from '../lib/format.ts';
import { toCsv, downloadText } from '../lib/csv.ts';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { Empty, ErrorNote, PageHeader, Spinner, StatusBadge } from '../components/ui.tsx';
import { Pager, useCursorPages } from '../components/Pager.tsx';
import { useNow } from '../lib/use-now.ts';
import { roleAtLeast, useMe } from '../lib/auth.ts';
import { ApprovalBadge, PendingDevices } from './DeviceApproval.tsx';
import { DeviceBulkActions } from '../components/DeviceBulkActions.tsx';
import { Stale } from '../components/Stale.tsx';
import { useRowSelection, type RowSelection } from '../components/selection.ts';
import { clockTime } from '../lib/format.ts';
import { isUuid } from '@ninjait/shared';

interface Column {
  key: string;
  header: string;
  numeric?: boolean;
  /** Columns the server can sort the whole fleet by; the others hold live values, not indexed columns. */
  sort?: DeviceSortKey;
}

const COLUMNS: Column[] = [
  { key: 'select', header: '' },
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
/** Two lines: a long OS name wraps instead of being cut. */
const ROW_HEIGHT_PX = 48;
/** Typing settles this long before the search goes to the server. */
const SEARCH_DEBOUNCE_MS = 300;

const net = (device: DeviceRow) => {
  const s = device.summary;
  return s && (s.rxBytesPerSec !== null || s.txBytesPerSec !== null) ? (s.rxBytesPerSec ?? 0) + (s.txBytesPerSec ?? 0) : null;
};
const osOf = (device: DeviceRow) => [device.osType, device.osVersion].filter(Boolean).join(' · ');

const uuidOr = (value: string | null) => (value && isUuid(value) ? value : '');

/** The site, tag, group and custom-field choices of the fleet table; technicians and up see them. */
function StructureFilters({ filters }: { filters: ReturnType<typeof useFilters> }) {
  const sites = useQuery(trpc.fleet.sites.list.queryOptions(undefined, { retry: false }));
  const tags = useQuery(trpc.fleet.tags.list.queryOptions(undefined, { retry: false }));
  const groups = useQuery(trpc.fleet.groups.list.queryOptions(undefined, { retry: false }));
  const fields = useQuery(trpc.fleet.fields.list.queryOptions(undefined, { retry: false }));
  const [value, setValue] = useState(filters.fieldValue);
  if (!sites.data || !tags.data || !groups.data || !fields.data) return null;
  const field = fields.data.find((f) => f.id === filters.field);
  const choose = (name: string, current: string, items: readonly { id: string; name: string }[], key: string) => (
    <label>
      {name}
      <select value={current} onChange={(e) => filters.set({ [key]: e.target.value })}>
        <option value="">All</option>
        {items.map((item) => <option key={item.id} value={item.id}>{item.name}</option>)}
      </select>
    </label>
  );
  return (
    <>
      {choose('Site', filters.site, sites.data, 'site')}
      {choose('Tag', filters.tag, tags.data, 'tag')}
      {choose('Group', filters.group, groups.data, 'group')}
      {fields.data.length > 0 ? (
        <>
          {choose('Custom field', filters.field, fields.data, 'field')}
          {field ? (
            <>
              <label>
                <span className="sr-only">Compare</span>
                <select value={filters.fieldOp} onChange={(e) => filters.set({ fop: e.target.value })}>
                  <option value="equals">equals</option>
                  {field.type === 'text' || field.type === 'select' ? <option value="contains">contains</option> : null}
                  {field.type === 'number' || field.type === 'date' ? <><option value="<">below</option><option value=">">above</option></> : null}
                </select>
              </label>
              <label>
                <span className="sr-only">Value</span>
                <input
                  type={field.type === 'number' ? 'number' : field.type === 'date' ? 'date' : 'text'} placeholder="value" value={value} maxLength={2000}
                  onChange={(e) => setValue(e.target.value)} onBlur={() => filters.set({ fval: value })}
                  onKeyDown={(e) => { if (e.key === 'Enter') filters.set({ fval: value }); }}
                />
              </label>
            </>
          ) : null}
        </>
      ) : null}
    </>
  );
}

/** The custom-field filter as the server takes it, typed by the field; nothing until a value is given. */
function fieldFilter(filters: ReturnType<typeof useFilters>): DeviceListInput['field'] | undefined {
  if (!filters.field || !filters.fieldValue) return undefined;
  const raw = filters.fieldValue;
  const value = raw === 'true' ? true : raw === 'false' ? false : raw.trim() !== '' && Number.isFinite(Number(raw)) && filters.fieldOp !== 'contains' ? Number(raw) : raw;
  return { fieldId: filters.field, op: filters.fieldOp, value };
}

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
    // Structure filters are ids; anything else in the address is ignored rather than sent.
    site: uuidOr(search.get('site')),
    tag: uuidOr(search.get('tag')),
    group: uuidOr(search.get('group')),
    field: uuidOr(search.get('field')),
    fieldOp: (['equals', 'contains', '<', '>'] as const).find((op) => op === search.get('fop')) ?? 'equals',
    fieldValue: search.get('fval') ?? '',
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
    { header: 'approval', value: (d: DeviceRow) => (d.pendingApproval ? 'waiting for approval' : 'approved') },
    { header: 'os_type', value: (d: DeviceRow) => d.osType },
    { header: 'os_version', value: (d: DeviceRow) => d.osVersion },
    { header: 'ip_address', value: (d: DeviceRow) => d.address },
    { header: 'ip_address_source', value: (d: DeviceRow) => d.addressSource },
    { header: 'credentials_refused_since', value: (d: DeviceRow) => d.credentialsRefused?.since },
    { header: 'cpu_percent', value: (d: DeviceRow) => d.summary?.cpuPercent?.toFixed(1) },
    { header: 'memory_percent', value: (d: DeviceRow) => d.summary?.memoryPercent?.toFixed(1) },
    { header: 'disk_percent', value: (d: DeviceRow) => d.summary?.diskPercent?.toFixed(1) },
    { header: 'rx_mbit_s', value: (d: DeviceRow) => (d.summary?.rxBytesPerSec != null ? ((d.summary.rxBytesPerSec * 8) / 1e6).toFixed(3) : '') },
    { header: 'tx_mbit_s', value: (d: DeviceRow) => (d.summary?.txBytesPerSec != null ? ((d.summary.txBytesPerSec * 8) / 1e6).toFixed(3) : '') },
    { header: 'uptime_sec', value: (d: DeviceRow) => d.summary?.uptimeSec },
    { header: 'last_seen', value: (d: DeviceRow) => d.lastSeen },
    { header: 'agent_version', value: (d: DeviceRow) => d.agentVersion },
    { header: 'tags', value: (d: DeviceRow) => d.tags.join('; ') },
  ];
}

/** The status cell: approval first (nothing else matters until an admin decides), then refused credentials. */
function StatusCell({ device }: { device: DeviceRow }) {
  if (device.pendingApproval) return <ApprovalBadge info={device.pendingApproval} compact />;
  const refused = device.credentialsRefused;
  return (
    <span className="status-stack">
      <StatusBadge status={device.status} />
      {refused ? (
        <span
          className="badge badge-bad"
          title={`The agent is using credentials the server does not accept (since ${clockTime(refused.since)}${refused.from ? `, from ${refused.from}` : ''}). Re-enroll it with a token.`}
        >
          Refused<span className="sr-only"> credentials</span>
        </span>
      ) : null}
    </span>
  );
}

function DeviceTable({ rows, sort, dir, onSort, selection }: {
  rows: DeviceRow[]; sort: DeviceSortKey; dir: 'asc' | 'desc'; onSort: (key: DeviceSortKey) => void; selection: RowSelection<DeviceRow>;
}) {
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
            {column.key === 'select' ? (
              <input
                type="checkbox"
                aria-label="Select every device on this page"
                checked={selection.all}
                ref={(box) => {
                  if (box) box.indeterminate = selection.some && !selection.all;
                }}
                onChange={selection.toggleAll}
              />
            ) : column.sort ? (
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
                <div role="cell" className="col-select">
                  <input type="checkbox" aria-label={`Select ${d.name}`} checked={selection.has(d.id)} onChange={() => selection.toggle(d.id)} />
                </div>
                <div role="cell" className="col-status"><StatusCell device={d} /></div>
                <div role="cell" className="col-name">
                  <div className="ellipsis"><Link to={`/devices/${d.id}`}>{d.name}</Link></div>
                  {d.tags.length > 0 ? <div className="ellipsis muted small" data-testid="device-tags" title={`Tags: ${d.tags.join(', ')}`}><span className="sr-only">Tags: </span>{d.tags.join(' · ')}</div> : null}
                </div>
                <div role="cell" className="col-os wrap2" title={osOf(d)}>{osOf(d) || '—'}</div>
                <div role="cell" className="col-ip" title={d.addressSource === 'connection' ? 'The address the agent connected from; it did not report its interfaces' : 'The primary interface, as the agent reports it'}>
                  <span className="mono">{d.address ?? '—'}</span>
                  {d.addressSource === 'connection' ? <span className="muted small address-source">connection</span> : null}
                </div>
                <div role="cell" className="num col-cpu">{percent(s?.cpuPercent)}</div>
                <div role="cell" className="num col-memory">{percent(s?.memoryPercent)}</div>
                <div role="cell" className="num col-disk">{percent(s?.diskPercent)}</div>
                <div role="cell" className="num col-network" title={`in ${mbits(s?.rxBytesPerSec)} / out ${mbits(s?.txBytesPerSec)}`}>{mbits(net(d))}</div>
                <div role="cell" className="num col-uptime">{duration(s?.uptimeSec)}</div>
                <div role="cell" className="num col-lastSeen" title={dateTime(d.lastSeen)}>{ago(d.lastSeen, now)}</div>
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
  const me = useMe();

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
    ...(filters.site ? { siteId: filters.site } : {}),
    ...(filters.tag ? { tagId: filters.tag } : {}),
    ...(filters.group ? { groupId: filters.group } : {}),
    ...(fieldFilter(filters) ? { field: fieldFilter(filters) } : {}),
  };
  const pages = useCursorPages(JSON.stringify(scope));
  const input: DeviceListInput = { ...scope, limit: PAGE_SIZE, ...(pages.cursor ? { cursor: pages.cursor } : {}) };
  const list = useQuery(trpc.devices.list.queryOptions(input, { refetchInterval: FLEET_REFRESH_MS, placeholderData: keepPreviousData }));
  const total = list.data?.total ?? 0;
  const rows = list.data?.items ?? [];
  // The selection belongs to the rows on screen: a new filter or page starts with none.
  const selection = useRowSelection(rows, (row) => row.id, JSON.stringify(input));
  const filtered = Boolean(scope.status || scope.osType || scope.search || scope.siteId || scope.tagId || scope.groupId || scope.field);

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
      <PendingDevices canDecide={roleAtLeast(me.data?.role, 'admin')} />
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
        <StructureFilters filters={filters} />
        <span className="muted small" aria-live="polite">
          {!list.data ? '' : filtered ? `${count(total)} of ${counted(counts.data?.total ?? total, 'device')}` : counted(total, 'device')}
        </span>
      </form>
      <DeviceBulkActions
        selected={selection.rows} role={me.data?.role} onClear={selection.clear}
        structure={filters.site || filters.group ? { ...(filters.site ? { siteId: filters.site } : {}), ...(filters.group ? { groupId: filters.group } : {}) } : undefined}
      />
      {exporting !== true && exporting ? <ErrorNote error={exporting} /> : null}
      {list.error ? <ErrorNote error={list.error} onRetry={pages.cursor ? pages.first : () => void list.refetch()} /> : null}
      {list.isPending ? <Spinner /> : counts.data?.total === 0 && total === 0 ? (
        <Empty title="No devices enrolled yet">Create a token on the <Link to="/tokens">Enrollment</Link> page to add one.</Empty>
      ) : list.data ? (
        <>
          <Stale updatedAt={list.dataUpdatedAt}>
            <DeviceTable rows={list.data.items} sort={filters.sort} dir={filters.dir} onSort={sortBy} selection={selection} />
          </Stale>
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
