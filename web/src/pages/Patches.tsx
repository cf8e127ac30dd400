import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { roleAtLeast, type Me } from '../lib/auth.ts';
import { dateTime, label } from '../lib/format.ts';
import { errorMessage } from '../lib/query.ts';
import { Card, Empty, PageHeader, QueryView } from '../components/ui.tsx';
import { Link } from '../lib/router.tsx';
import type { Outputs } from '../lib/trpc.ts';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { PatchPolicies } from './PatchPolicies.tsx';

type Deployment = Outputs['patches']['deployments'][number];

const DEPLOYMENT_COLUMNS: Column<Deployment>[] = [
  { key: 'device', header: 'Device', cell: (row) => <Link to={`/devices/${row.deviceId}?tab=updates`}>{row.deviceName ?? row.deviceId}</Link>, sortValue: (row) => row.deviceName ?? row.deviceId },
  { key: 'patches', header: 'Patches', cell: (row) => row.patches.map((patch) => patch.name).join(', ') },
  { key: 'status', header: 'Status', cell: (row) => label(row.status), sortValue: (row) => row.status },
  { key: 'from', header: 'From', cell: (row) => dateTime(row.notBefore), sortValue: (row) => new Date(row.notBefore).getTime() },
  { key: 'result', header: 'Result', cell: (row) => row.error ?? row.results.map((result) => `${result.key.split(':')[1] ?? result.key}: ${label(result.status)}`).join(', ') },
];

/** The fleet's patch view: compliance, pending updates to approve and deploy, and deployments with their progress. */
export function PatchesPage({ me }: { me: Me }) {
  const client = useQueryClient();
  const canAct = roleAtLeast(me.role, 'technician');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const compliance = useQuery(trpc.patches.compliance.queryOptions());
  const pending = useQuery(trpc.patches.pending.queryOptions({}));
  const deployments = useQuery(trpc.patches.deployments.queryOptions({ limit: 100 }, { refetchInterval: 5_000 }));
  // An approval or a deployment changes compliance, pending and deployments alike: every patches query.
  const refresh = () => void client.invalidateQueries(trpc.patches.pathFilter());
  const approve = useMutation(trpc.patches.approve.mutationOptions({ onSuccess: refresh }));
  const deploy = useMutation(trpc.patches.deploy.mutationOptions({ onSuccess: refresh }));
  const names = [...new Set((pending.data ?? []).map((row) => row.name))];
  const toggle = (name: string) => setSelected((old) => {
    const next = new Set(old);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    return next;
  });
  return (
    <>
      <PageHeader title="Patches" />
      <Card title="Compliance">
        <QueryView query={compliance}>
          {(report) => (
            <p data-testid="compliance">{report.fullyPatched} of {report.reporting} reporting devices fully patched ({report.percentPatched}%).
              Missing security updates: {report.missingSecurityByAge.under7Days} under 7 days, {report.missingSecurityByAge.from7To30Days} for 7–30 days,
              {' '}{report.missingSecurityByAge.over30Days} for over 30 days. {report.rebootPending} waiting for a reboot.</p>
          )}
        </QueryView>
      </Card>
      <Card title="Pending updates">
        <QueryView query={pending} empty={(rows) => (rows.length === 0 ? <Empty title="Nothing pending">Every reporting device is up to date.</Empty> : null)}>
          {(rows) => (
            <>
              {canAct ? (
                <div className="actions">
                  <button type="button" disabled={selected.size === 0 || approve.isPending} onClick={() => approve.mutate({ names: [...selected] })}>Approve selected</button>
                  <button type="button" disabled={selected.size === 0 || deploy.isPending} onClick={() => deploy.mutate({ names: [...selected], schedule: 'now' })}>Deploy now</button>
                  <button type="button" disabled={selected.size === 0 || deploy.isPending} onClick={() => deploy.mutate({ names: [...selected], schedule: 'window' })}>Deploy in the maintenance window</button>
                  {approve.error || deploy.error ? <span className="error">{errorMessage(approve.error ?? deploy.error)}</span> : null}
                </div>
              ) : null}
              <div className="table-wrap">
                <table className="table compact" data-testid="fleet-updates">
                  <thead><tr>{canAct ? <th /> : null}<th>Package</th><th>Devices</th><th>Class</th><th>Severity</th><th>Approved</th></tr></thead>
                  <tbody>{names.map((name) => {
                    const group = rows.filter((row) => row.name === name);
                    return (
                      <tr key={name}>
                        {canAct ? <td><input type="checkbox" aria-label={`Select ${name}`} checked={selected.has(name)} onChange={() => toggle(name)} /></td> : null}
                        <td>{name}</td><td>{group.length}</td><td>{label(group[0]!.classification)}</td><td>{label(group[0]!.severity)}</td>
                        <td>{group.every((row) => row.approved) ? 'yes' : 'no'}</td>
                      </tr>
                    );
                  })}</tbody>
                </table>
              </div>
            </>
          )}
        </QueryView>
      </Card>
      <PatchPolicies canEdit={roleAtLeast(me.role, 'admin')} />
      <Card title="Deployments">
        <QueryView query={deployments} empty={(rows) => (rows.length === 0 ? <Empty title="No deployments yet" /> : null)}>
          {(rows) => (
            <DataTable caption="Deployments" testId="deployments" compact columns={DEPLOYMENT_COLUMNS} rows={rows} rowKey={(row) => row.id} />
          )}
        </QueryView>
      </Card>
    </>
  );
}
