import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../lib/trpc.ts';
import { dateTime } from '../lib/format.ts';
import { Card, Empty, QueryView, StatusBadge } from '../components/ui.tsx';
import { CommandOutput } from './CommandPanel.tsx';
import { AuditTable } from './Audit.tsx';

const HISTORY_PAGE = 50;
/** The audit log has no device filter: commands and shells are audited by their own ids, with the device in details. */
const AUDIT_SCAN = 1_000;

/** Past commands on this device, newest first; a row opens its stored output. */
export function CommandHistory({ deviceId }: { deviceId: string }) {
  const [open, setOpen] = useState<string | null>(null);
  const history = useQuery({ queryKey: ['commands.list', deviceId], queryFn: () => api().commands.list.query({ deviceId, limit: HISTORY_PAGE }) });
  return (
    <Card title="Command history">
      <QueryView query={history} empty={(page) => (page.items.length === 0 ? <Empty title="No commands have run on this device" /> : null)}>
        {(page) => (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Command history</caption>
              <thead>
                <tr><th scope="col">Status</th><th scope="col">Command</th><th scope="col">Shell</th><th scope="col">By</th><th scope="col">Created</th><th scope="col" className="num">Exit</th><th scope="col"><span className="sr-only">Output</span></th></tr>
              </thead>
              <tbody>
                {page.items.map((row) => {
                  // Lists carry the first 200 characters of the script, though the type leaves it out.
                  const script = (row as { script?: string }).script ?? '';
                  return (
                  <tr key={row.id}>
                    <td><StatusBadge status={row.status} /></td>
                    <td className="mono ellipsis" title={script}>{script}</td>
                    <td>{row.interpreter ?? row.shell}</td>
                    <td>{row.requestedByLabel}</td>
                    <td>{dateTime(row.createdAt)}</td>
                    <td className="num">{row.exitCode ?? '—'}</td>
                    <td>
                      <button type="button" className="link" aria-expanded={open === row.id} onClick={() => setOpen(open === row.id ? null : row.id)}>
                        {open === row.id ? 'Hide output' : 'Output'}
                      </button>
                    </td>
                  </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
      {open ? <CommandOutput commandId={open} /> : null}
    </Card>
  );
}

/** Who did what to this device (admins: the audit log is theirs to read). */
export function DeviceAudit({ deviceId }: { deviceId: string }) {
  const audit = useQuery({
    queryKey: ['audit.list', { device: deviceId }],
    queryFn: async () => {
      const rows = await api().audit.list.query({ limit: AUDIT_SCAN });
      return rows.filter((row) => row.resourceId === deviceId || (row.details as { deviceId?: unknown }).deviceId === deviceId);
    },
  });
  return (
    <Card title="Audit trail">
      <QueryView query={audit}>{(rows) => <AuditTable rows={rows} emptyText="No audited actions on this device yet" />}</QueryView>
    </Card>
  );
}
