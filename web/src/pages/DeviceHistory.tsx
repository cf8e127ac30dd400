import { useCallback, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { dateTime, elapsed } from '../lib/format.ts';
import { Card, QueryView, StatusBadge } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { CommandOutput } from './CommandPanel.tsx';
import { AuditTable } from './Audit.tsx';

const HISTORY_PAGE = 50;
/** The audit log has no device filter: commands and shells are audited by their own ids, with the device in details. */
const AUDIT_SCAN = 1_000;

type CommandRow = Outputs['commands']['list']['items'][number];
/** Lists carry the first 200 characters of the script, though the type leaves it out. */
const scriptOf = (row: CommandRow) => (row as { script?: string }).script ?? '';

/** Past commands on this device, newest first; a row opens its stored output. */
export function CommandHistory({ deviceId }: { deviceId: string }) {
  const [open, setOpen] = useState<string | null>(null);
  const history = useQuery(trpc.commands.list.queryOptions({ deviceId, limit: HISTORY_PAGE }));
  const columns: Column<CommandRow>[] = [
    { key: 'status', header: 'Status', cell: (row) => <StatusBadge status={row.status} />, sortValue: (row) => row.status },
    { key: 'command', header: 'Command', className: 'mono ellipsis', title: scriptOf, cell: scriptOf, sortValue: scriptOf },
    { key: 'shell', header: 'Shell', cell: (row) => row.interpreter ?? row.shell },
    { key: 'by', header: 'By', cell: (row) => row.requestedByLabel, sortValue: (row) => row.requestedByLabel },
    { key: 'created', header: 'Created', className: 'nowrap', cell: (row) => dateTime(row.createdAt), sortValue: (row) => new Date(row.createdAt).getTime() },
    {
      key: 'duration', header: 'Duration', numeric: true, className: 'nowrap',
      title: (row) => (row.startedAt ? `Started ${dateTime(row.startedAt)}` : 'Not started'), cell: (row) => elapsed(row.startedAt, row.finishedAt),
    },
    { key: 'exit', header: 'Exit', numeric: true, cell: (row) => row.exitCode ?? '—', sortValue: (row) => row.exitCode },
    {
      key: 'output', header: 'Output', headerHidden: true,
      cell: (row) => (
        <button type="button" className="link" aria-expanded={open === row.id} onClick={() => setOpen(open === row.id ? null : row.id)}>
          {open === row.id ? 'Hide output' : 'Output'}
        </button>
      ),
    },
  ];
  return (
    <Card title="Command history">
      <DataTable
        caption="Command history"
        columns={columns}
        rows={history.data?.items}
        rowKey={(row) => row.id}
        empty="No commands have run on this device"
        error={history.error}
        onRetry={() => void history.refetch()}
      />
      {open ? <CommandOutput commandId={open} /> : null}
    </Card>
  );
}

/** Who did what to this device (admins: the audit log is theirs to read). */
export function DeviceAudit({ deviceId }: { deviceId: string }) {
  const aboutDevice = useCallback(
    (rows: Outputs['audit']['list']) => rows.filter((row) => row.resourceId === deviceId || (row.details as { deviceId?: unknown }).deviceId === deviceId),
    [deviceId],
  );
  const audit = useQuery(trpc.audit.list.queryOptions({ limit: AUDIT_SCAN }, { select: aboutDevice }));
  return (
    <Card title="Audit trail">
      <QueryView query={audit}>{(rows) => <AuditTable rows={rows} emptyText="No audited actions on this device yet" />}</QueryView>
    </Card>
  );
}
