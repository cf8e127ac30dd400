import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../lib/trpc.ts';
import { roleAtLeast, useMe } from '../lib/auth.ts';
import { count, money, percent } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, Empty, PageHeader, QueryView } from '../components/ui.tsx';
import { Person } from './Tickets.tsx';

const thisMonth = () => new Date().toISOString().slice(0, 7);
/** The busiest devices shown, by 30-day average. */
const CPU_ROWS = 50;
const hours = (value: number | null) => (value === null ? '—' : `${value.toFixed(1)} h`);

export function AnalyticsPage() {
  const me = useMe();
  const isAdmin = roleAtLeast(me.data?.role, 'admin');
  const [month, setMonth] = useState(thisMonth());
  const technicians = useQuery({ queryKey: ['analytics.technicianStats7d'], queryFn: () => api().analytics.technicianStats7d.query({ days: 7 }) });
  const usage = useQuery({ queryKey: ['analytics.apiUsageThisMonth', month], queryFn: () => api().analytics.apiUsageThisMonth.query({ month }) });
  const invoice = useQuery({ queryKey: ['analytics.monthlyInvoice', month], queryFn: () => api().analytics.monthlyInvoice.query({ month }), enabled: isAdmin });
  const cpu = useQuery({ queryKey: ['analytics.deviceCpu30d'], queryFn: () => api().analytics.deviceCpu30d.query({ days: 30 }) });
  const busiest = cpu.data ? [...cpu.data].sort((a, b) => b.avgCpu - a.avgCpu).slice(0, CPU_ROWS) : [];
  // Names for the rows shown only: one page of the fleet, not all of it.
  const named = { deviceIds: busiest.map((row) => row.deviceId), limit: CPU_ROWS };
  const devices = useQuery({
    queryKey: ['devices.list', named], queryFn: () => api().devices.list.query(named), enabled: named.deviceIds.length > 0,
  });
  const names = new Map(devices.data?.items.map((d) => [d.id, d.name]));

  return (
    <>
      <PageHeader title="Analytics">
        <label>
          Month
          <input type="month" value={month} max={thisMonth()} onChange={(e) => setMonth(e.target.value || thisMonth())} />
        </label>
      </PageHeader>
      <div className="grid-2">
        <Card title="Technicians, last 7 days">
          <QueryView query={technicians} empty={(rows) => (rows.length === 0 ? <Empty title="No tickets closed in the last 7 days" /> : null)}>
            {(rows) => (
              <div className="table-wrap">
                <table className="table">
                  <caption className="sr-only">Technician stats</caption>
                  <thead><tr><th scope="col">Technician</th><th scope="col" className="num">Closed</th><th scope="col" className="num">Avg. time</th><th scope="col" className="num">SLA breaches</th></tr></thead>
                  <tbody>
                    {rows.map((row) => (
                      <tr key={row.technicianId}>
                        <td><Person id={row.technicianId} /></td>
                        <td className="num">{count(row.ticketsClosed)}</td>
                        <td className="num">{hours(row.avgHours)}</td>
                        <td className={`num ${row.slaBreaches > 0 ? 'bad-text' : ''}`}>{count(row.slaBreaches)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </QueryView>
        </Card>
        <Card title={`API usage, ${month}`}>
          <QueryView query={usage}>
            {(data) => (
              <div className="stat-grid">
                <div className="stat"><span className="stat-value">{count(data.totalCalls)}</span><span className="stat-label">API calls</span></div>
                <div className="stat"><span className="stat-value">{data.avgResponseTimeMs === null ? '—' : `${data.avgResponseTimeMs.toFixed(1)} ms`}</span><span className="stat-label">Avg. response</span></div>
                <div className="stat"><span className="stat-value">{count(data.errorCount)}</span><span className="stat-label">Server errors (5xx)</span></div>
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
                    <div><dt>Devices ($5 each)</dt><dd className="num">{money(data.deviceCost)}</dd></div>
                    <div><dt>API calls ($0.001 each)</dt><dd className="num">{money(data.apiCost)}</dd></div>
                    <div><dt>Storage ($0.10 per GB)</dt><dd className="num">{money(data.storageCost)}</dd></div>
                  </dl>
                  <p className="invoice-total">Total <strong>{money(data.totalCost)}</strong></p>
                  <p className="muted small">From the daily billing events of the month so far.</p>
                </>
              )}
            </QueryView>
          </Card>
        ) : null}
        <Card title="CPU per device, last 30 days">
          <QueryView query={cpu} empty={(rows) => (rows.length === 0 ? <Empty title="No hourly rollups yet">They appear after the first full hour of samples.</Empty> : null)}>
            {() => (
              <div className="table-wrap">
                <table className="table">
                  <caption className="sr-only">CPU per device</caption>
                  <thead><tr><th scope="col">Device</th><th scope="col" className="num">Average</th><th scope="col" className="num">Peak</th></tr></thead>
                  <tbody>
                    {busiest.map((row) => (
                      <tr key={row.deviceId}>
                        <td><Link to={`/devices/${row.deviceId}`}>{names.get(row.deviceId) ?? row.deviceId.slice(0, 8)}</Link></td>
                        <td className="num">{percent(row.avgCpu)}</td>
                        <td className="num">{percent(row.peakCpu)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </QueryView>
        </Card>
      </div>
    </>
  );
}
