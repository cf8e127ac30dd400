import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { ago, dateTime, label } from '../lib/format.ts';
import type { Outputs } from '../lib/trpc.ts';
import { Card, Empty, QueryView } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type Software = Outputs['software']['list']['items'][number];
type Service = Outputs['software']['services'][number];
type PendingUpdate = Outputs['patches']['pending'][number];

const SOFTWARE_COLUMNS: Column<Software>[] = [
  { key: 'name', header: 'Name', cell: (item) => item.name, sortValue: (item) => item.name },
  { key: 'version', header: 'Version', cell: (item) => item.version },
  { key: 'arch', header: 'Arch', cell: (item) => item.arch },
  { key: 'source', header: 'Source', cell: (item) => item.source, sortValue: (item) => item.source },
  { key: 'publisher', header: 'Publisher', cell: (item) => item.publisher, sortValue: (item) => item.publisher },
];

const SERVICE_COLUMNS: Column<Service>[] = [
  { key: 'name', header: 'Name', cell: (row) => row.name, sortValue: (row) => row.name },
  { key: 'description', header: 'Description', cell: (row) => row.displayName },
  { key: 'state', header: 'State', cell: (row) => label(row.state), sortValue: (row) => row.state },
  { key: 'start', header: 'Start', cell: (row) => row.startMode },
];

const UPDATE_COLUMNS: Column<PendingUpdate>[] = [
  { key: 'name', header: 'Name', cell: (row) => row.name, sortValue: (row) => row.name },
  { key: 'installed', header: 'Installed', cell: (row) => row.currentVersion || '-' },
  { key: 'available', header: 'Available', cell: (row) => row.availableVersion },
  { key: 'class', header: 'Class', cell: (row) => label(row.classification), sortValue: (row) => row.classification },
  { key: 'severity', header: 'Severity', cell: (row) => label(row.severity), sortValue: (row) => row.severity },
  { key: 'approved', header: 'Approved', cell: (row) => (row.approved ? 'yes' : 'no') },
  { key: 'seen', header: 'Seen since', cell: (row) => dateTime(row.firstSeenAt), sortValue: (row) => new Date(row.firstSeenAt).getTime() },
];

/** The device's installed software, as its agent last reported it; searchable by name. */
export function DeviceSoftware({ deviceId }: { deviceId: string }) {
  const [search, setSearch] = useState('');
  const query = useQuery(trpc.software.list.queryOptions({ deviceId, limit: 1_000, ...(search.trim() ? { search: search.trim() } : {}) }));
  return (
    <Card title="Installed software">
      <input type="search" aria-label="Search software" placeholder="Search by name" value={search} onChange={(e) => setSearch(e.target.value)} />
      <QueryView query={query} empty={(data) => (data.items.length === 0 && !search ? <Empty title="No software reported yet">The agent reports installed software within a minute of starting, then hourly and when it changes.</Empty> : null)}>
        {(data) => (
          <>
            {data.state ? <p className="muted small">Reported {ago(data.state.reportedAt)}; last patched {data.state.lastPatchedAt ? dateTime(data.state.lastPatchedAt) : 'unknown'}{data.state.rebootPending ? '; a reboot is pending' : ''}.</p> : null}
            <DataTable caption="Installed software" testId="software-table" compact columns={SOFTWARE_COLUMNS} rows={data.items} rowKey={(item) => `${item.source}:${item.name}:${item.arch}`} />
          </>
        )}
      </QueryView>
    </Card>
  );
}

export function DeviceServices({ deviceId }: { deviceId: string }) {
  const query = useQuery(trpc.software.services.queryOptions({ deviceId, limit: 2_000 }));
  return (
    <Card title="Services">
      <QueryView query={query} empty={(rows) => (rows.length === 0 ? <Empty title="No services reported yet" /> : null)}>
        {(rows) => (
          <DataTable caption="Services" testId="services-table" compact columns={SERVICE_COLUMNS} rows={rows} rowKey={(row) => row.name} />
        )}
      </QueryView>
    </Card>
  );
}

export function DeviceUpdates({ deviceId }: { deviceId: string }) {
  const query = useQuery(trpc.patches.pending.queryOptions({ deviceId }));
  const deployments = useQuery(trpc.patches.deployments.queryOptions({ deviceId, limit: 20 }, { refetchInterval: 5_000 }));
  return (
    <>
      <Card title="Pending updates">
        <QueryView query={query} empty={(rows) => (rows.length === 0 ? <Empty title="Fully patched">No pending operating-system updates were reported.</Empty> : null)}>
          {(rows) => (
            <DataTable caption="Pending updates" testId="updates-table" compact columns={UPDATE_COLUMNS} rows={rows} rowKey={(row) => row.key} />
          )}
        </QueryView>
      </Card>
      <Card title="Deployments">
        <QueryView query={deployments} empty={(rows) => (rows.length === 0 ? <Empty title="No deployments yet" /> : null)}>
          {(rows) => (
            <ul className="plain">{rows.map((row) => (
              <li key={row.id}><strong>{label(row.status)}</strong> {row.patches.map((patch) => patch.name).join(', ')} — {row.error ?? `from ${dateTime(row.notBefore)}`}</li>
            ))}</ul>
          )}
        </QueryView>
      </Card>
    </>
  );
}
