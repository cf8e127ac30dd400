import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { roleAtLeast, useMe } from '../lib/auth.ts';
import { count, money, percent } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, Empty, PageHeader, QueryView } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { Person } from './Tickets.tsx';

const thisMonth = () => new Date().toISOString().slice(0, 7);
/** The busiest devices shown, by 30-day average. */
const CPU_ROWS = 50;
const hours = (value: number | null) => (value === null ? '—' : `${value.toFixed(1)} h`);

type TechnicianRow = Outputs['analytics']['technicianStats7d'][number];
type CpuRow = Outputs['analytics']['deviceCpu30d'][number];

const TECHNICIAN_COLUMNS: Column<TechnicianRow>[] = [
  { key: 'technician', header: 'Technician', cell: (row) => <Person id={row.technicianId} /> },
  { key: 'closed', header: 'Closed', numeric: true, cell: (row) => count(row.ticketsClosed), sortValue: (row) => row.ticketsClosed },
  { key: 'avg', header: 'Avg. time', numeric: true, cell: (row) => hours(row.avgHours), sortValue: (row) => row.avgHours },
  {
    key: 'breaches', header: 'SLA breaches', numeric: true, className: (row) => (row.slaBreaches > 0 ? 'bad-text' : undefined),
    cell: (row) => count(row.slaBreaches), sortValue: (row) => row.slaBreaches,
  },
];

/** Reports for the organization: technicians' tickets, API use, the invoice and CPU over 30 days. */
export function AnalyticsPage() {
  const me = useMe();
  const isAdmin = roleAtLeast(me.data?.role, 'admin');
  const [month, setMonth] = useState(thisMonth());
  const technicians = useQuery(trpc.analytics.technicianStats7d.queryOptions({ days: 7 }));
  const usage = useQuery(trpc.analytics.apiUsageThisMonth.queryOptions({ month }));
  const invoice = useQuery(trpc.analytics.monthlyInvoice.queryOptions({ month }, { enabled: isAdmin }));
  const cpu = useQuery(trpc.analytics.deviceCpu30d.queryOptions({ days: 30 }));
  const busiest = cpu.data ? [...cpu.data].sort((a, b) => b.avgCpu - a.avgCpu).slice(0, CPU_ROWS) : [];
  // Names for the rows shown only: one page of the fleet, not all of it.
  const named = { deviceIds: busiest.map((row) => row.deviceId), limit: CPU_ROWS };
  const devices = useQuery(trpc.devices.list.queryOptions(named, { enabled: named.deviceIds.length > 0 }));
  const names = new Map(devices.data?.items.map((d) => [d.id, d.name]));
  const cpuColumns: Column<CpuRow>[] = [
    { key: 'device', header: 'Device', cell: (row) => <Link to={`/devices/${row.deviceId}`}>{names.get(row.deviceId) ?? 'A removed device'}</Link>, sortValue: (row) => names.get(row.deviceId) },
    { key: 'average', header: 'Average', numeric: true, cell: (row) => percent(row.avgCpu), sortValue: (row) => row.avgCpu },
    { key: 'peak', header: 'Peak', numeric: true, cell: (row) => percent(row.peakCpu), sortValue: (row) => row.peakCpu },
  ];

  return (
    <>
      <PageHeader title="Reports">
        <label>
          Month
          <input type="month" value={month} max={thisMonth()} onChange={(e) => setMonth(e.target.value || thisMonth())} />
        </label>
      </PageHeader>
      <div className="grid-2">
        <Card title="Technicians, last 7 days">
          <DataTable
            caption="Technicians"
            columns={TECHNICIAN_COLUMNS}
            rows={technicians.data}
            rowKey={(row) => row.technicianId}
            empty="No tickets closed in the last 7 days"
            error={technicians.error}
            onRetry={() => void technicians.refetch()}
          />
        </Card>
        <Card title={`API usage, ${month}`}>
          <QueryView query={usage}>
            {(data) => (
              <div className="stat-grid">
                <div className="stat"><span className="stat-value">{count(data.totalCalls)}</span><span className="stat-label">Billable API calls</span></div>
                <div className="stat"><span className="stat-value">{data.avgResponseTimeMs === null ? '—' : `${data.avgResponseTimeMs.toFixed(1)} ms`}</span><span className="stat-label">Avg. response</span></div>
                <div className="stat"><span className="stat-value">{count(data.errorCount)}</span><span className="stat-label">Requests the server failed</span></div>
                <div className="stat"><span className="stat-value">{count(data.agentCalls)}</span><span className="stat-label">Agent check-ins (not billed)</span></div>
              </div>
            )}
          </QueryView>
        </Card>
        {isAdmin ? (
          <Card title={`Invoice, ${month}`}>
            <QueryView query={invoice}>
              {(data) => (
                <>
                  <dl className="fields">
                    <div><dt>Devices (per device per month)</dt><dd className="num">{money(data.deviceCost, data.currency)}</dd></div>
                    <div><dt>API calls by people and API keys</dt><dd className="num">{money(data.apiCost, data.currency)}</dd></div>
                    <div><dt>Storage (per GB)</dt><dd className="num">{money(data.storageCost, data.currency)}</dd></div>
                  </dl>
                  <p className="invoice-total">Total <strong>{money(data.totalCost, data.currency)}</strong></p>
                  <p className="muted small">For the month so far, counted once a day at the prices of your <a href="/contract">contract</a>. Agents' check-ins are free.</p>
                </>
              )}
            </QueryView>
          </Card>
        ) : null}
        <Card title="CPU per device, last 30 days">
          <DataTable
            caption="CPU per device"
            columns={cpuColumns}
            rows={cpu.data ? busiest : undefined}
            rowKey={(row) => row.deviceId}
            empty={<Empty title="No hourly figures yet">They appear after devices have reported for a full hour.</Empty>}
            error={cpu.error}
            onRetry={() => void cpu.refetch()}
          />
        </Card>
      </div>
    </>
  );
}
