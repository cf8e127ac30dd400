import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { ago, counted, label } from '../lib/format.ts';
import type { Outputs } from '../lib/trpc.ts';
import { Card, PageHeader, StatusBadge } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { Pager } from '../components/Pager.tsx';

type Fleet = Outputs['providers']['fleet'];
const PAGE_SIZE = 50;
const STATUSES = ['online', 'offline', 'pending'] as const;

/**
 * Every device of every organization this person works in (their own and their clients'), for
 * provider staff who look after many clients at once. To act on a device, switch to its organization.
 */
export function FleetPage() {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState<(typeof STATUSES)[number] | ''>('');
  const fleet = useQuery({
    ...trpc.providers.fleet.queryOptions({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, ...(status ? { status } : {}) }),
    placeholderData: keepPreviousData,
  });
  const pages = Math.max(1, Math.ceil((fleet.data?.total ?? 0) / PAGE_SIZE));
  const perOrganization: Column<Fleet['organizations'][number]>[] = [
    { key: 'name', header: 'Organization', cell: (org) => org.name, sortValue: (org) => org.name },
    { key: 'role', header: 'Your role', cell: (org) => label(org.role) },
    { key: 'devices', header: 'Devices', cell: (org) => counted(org.devices, 'device'), sortValue: (org) => org.devices },
    { key: 'online', header: 'Online', cell: (org) => org.online, sortValue: (org) => org.online },
    { key: 'offline', header: 'Offline', cell: (org) => org.offline, sortValue: (org) => org.offline },
  ];
  const devices: Column<Fleet['devices'][number]>[] = [
    { key: 'name', header: 'Device', cell: (device) => device.name },
    { key: 'organization', header: 'Organization', cell: (device) => device.organizationName },
    { key: 'status', header: 'Status', cell: (device) => <StatusBadge status={device.status} /> },
    { key: 'lastSeen', header: 'Last seen', cell: (device) => ago(device.lastSeen) },
    { key: 'os', header: 'System', cell: (device) => device.osType ?? '—' },
  ];
  return (
    <>
      <PageHeader title="Client fleet" />
      <p className="muted">Devices of every organization you work in. To run something on a device, switch to its organization in the header.</p>
      <Card title="Per organization">
        <DataTable caption="Devices per organization" columns={perOrganization} rows={fleet.data?.organizations} rowKey={(org) => org.organizationId}
          error={fleet.error} onRetry={() => void fleet.refetch()} compact />
      </Card>
      <Card title={fleet.data ? counted(fleet.data.total, 'device') : 'Devices'}>
        <div className="toolbar">
          <label>
            Status
            <select value={status} onChange={(event) => { setStatus(event.target.value as typeof status); setPage(1); }}>
              <option value="">Any</option>
              {STATUSES.map((value) => <option key={value} value={value}>{label(value)}</option>)}
            </select>
          </label>
        </div>
        <DataTable caption="Devices of all organizations" columns={devices} rows={fleet.data?.devices} rowKey={(device) => device.id}
          rowData={(device) => ({ 'data-organization': device.organizationName })}
          empty={<p className="muted">No devices here yet.</p>} error={fleet.error} onRetry={() => void fleet.refetch()} />
        <Pager page={page} pages={pages} hasNext={page < pages} busy={fleet.isFetching}
          onFirst={() => setPage(1)} onPrevious={() => setPage(Math.max(1, page - 1))} onNext={() => setPage(page + 1)} />
      </Card>
    </>
  );
}
