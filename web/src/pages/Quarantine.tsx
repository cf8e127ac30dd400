import { useInfiniteQuery } from '@tanstack/react-query';
import { api, type Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { dateTime } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { SINK_PURPOSE } from '../lib/stores.ts';
import { Card, Empty, PageHeader, QueryView } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

const PAGE = 50;

type QuarantinedRecord = Outputs['quarantine']['list']['items'][number];


const KIND: Record<string, string> = { sample: 'Health sample', inventory: 'Inventory' };

/** The agent's clock reading; it may be no date at all, which is often why the record is here. */
function collected(record: QuarantinedRecord): string {
  if (record.collectedAtMs === null) return 'unknown';
  const date = new Date(record.collectedAtMs);
  return Number.isNaN(date.getTime()) ? `not a date (${record.collectedAtMs})` : dateTime(date);
}

const COLUMNS: Column<QuarantinedRecord>[] = [
  {
    key: 'device', header: 'Device', sortValue: (record) => record.deviceName,
    cell: (record) => (record.deviceName ? <Link to={`/devices/${record.deviceId}`}>{record.deviceName}</Link> : <span className="muted">A removed device</span>),
  },
  { key: 'what', header: 'What', className: 'nowrap', cell: (record) => <>{KIND[record.kind] ?? record.kind} <span className="muted small">#{record.seq}</span></> },
  { key: 'collected', header: 'Collected (device clock)', className: 'nowrap', cell: collected, sortValue: (record) => record.collectedAtMs },
  { key: 'quarantined', header: 'Set aside', className: 'nowrap', cell: (record) => dateTime(record.quarantinedAt), sortValue: (record) => new Date(record.quarantinedAt).getTime() },
  { key: 'sink', header: 'Meant for', cell: (record) => SINK_PURPOSE[record.sink] ?? record.sink },
  {
    key: 'why', header: 'Why', className: 'details',
    cell: (record) => (
      <>
        {record.reason}
        <details>
          <summary className="muted small">What the device sent ({record.payloadChars.toLocaleString()} characters)</summary>
          <pre className="small">{record.payloadPreview}{record.payloadChars > record.payloadPreview.length ? '…' : ''}</pre>
        </details>
      </>
    ),
  },
];

function QuarantineTable({ records }: { records: QuarantinedRecord[] }) {
  return <DataTable caption="Data we could not store" columns={COLUMNS} rows={records} rowKey={(record) => String(record.id)} />;
}

/**
 * Records the server received from devices (and acknowledged, so the device moved on) but could
 * not store: a store refused them, or the device's clock made their time implausible.
 */
export function QuarantinePage() {
  const pages = useInfiniteQuery({
    // The router's key; the call is spelled out because the integration's own infinite options add a
    // `direction` field to the input, which this procedure's strict schema refuses.
    queryKey: trpc.quarantine.list.infiniteQueryKey({ limit: PAGE }),
    queryFn: ({ pageParam }) => api().quarantine.list.query({ limit: PAGE, ...(pageParam ? { cursor: pageParam } : {}) }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  const flat = { ...pages, data: pages.data?.pages.flatMap((page) => page.items) };
  const retentionDays = pages.data?.pages[0]?.retentionDays;
  return (
    <>
      <PageHeader title="Data we could not store" />
      <p className="muted">
        Devices sent these records and the server received them, but could not store them: a database refused a value,
        or the device's clock put the record too far in the past or the future. Everything else from the same devices
        was stored as usual. A device that appears here often usually has a wrong clock; fix its time settings.
        {retentionDays ? ` Records are kept for ${retentionDays} ${retentionDays === 1 ? 'day' : 'days'}.` : ''}
      </p>
      <Card>
        <QueryView query={flat} empty={(records) => (records.length === 0 ? <Empty title="Nothing here: every record was stored" /> : null)}>
          {(records) => (
            <>
              <QuarantineTable records={records} />
              {pages.hasNextPage ? (
                <button type="button" className="secondary" disabled={pages.isFetchingNextPage} onClick={() => void pages.fetchNextPage()}>
                  {pages.isFetchingNextPage ? 'Loading…' : 'Show older'}
                </button>
              ) : null}
            </>
          )}
        </QueryView>
      </Card>
    </>
  );
}
