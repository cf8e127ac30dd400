import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { Card, Empty, ErrorNote, QueryView } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type ProcessRow = Outputs['remote']['processes']['list']['processes'][number];

/** Rows drawn at once: a busy server has thousands of processes; the filter finds the rest. */
const SHOWN_ROWS = 300;

const memoryText = (kb: number) => (kb >= 1024 * 1024 ? `${(kb / 1024 / 1024).toFixed(1)} GiB` : kb >= 1024 ? `${(kb / 1024).toFixed(1)} MiB` : `${kb} KiB`);

/**
 * The device's processes as its agent sees them now (asked on demand, refreshed every 10 s while
 * the tab is open), filtered by name, command line, user or PID; technicians can end one
 * (SIGTERM, or SIGKILL for one that ignores it), which is audited like every remote action.
 */
export function DeviceProcesses({ deviceId, canAct }: { deviceId: string; canAct: boolean }) {
  const [filter, setFilter] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const query = useQuery(trpc.remote.processes.list.queryOptions({ deviceId }, { retry: false, refetchInterval: 10_000 }));
  const kill = useMutation(trpc.remote.processes.kill.mutationOptions({
    onSuccess: (result) => {
      setNotice(`Sent ${result.signal} to process ${result.pid}.`);
      void query.refetch();
    },
  }));

  const end = (row: ProcessRow, signal: 'SIGTERM' | 'SIGKILL') => {
    const how = signal === 'SIGTERM' ? 'End' : 'Force-kill';
    if (!confirm(`${how} process ${row.pid} (${row.name}) on this device?`)) return;
    setNotice(null);
    kill.mutate({ deviceId, pid: row.pid, signal });
  };

  const columns: Column<ProcessRow>[] = [
    { key: 'pid', header: 'PID', numeric: true, cell: (p) => p.pid, sortValue: (p) => p.pid },
    { key: 'name', header: 'Name', cell: (p) => p.name, sortValue: (p) => p.name.toLowerCase() },
    { key: 'user', header: 'User', cell: (p) => p.user, sortValue: (p) => p.user },
    { key: 'cpu', header: 'CPU', numeric: true, cell: (p) => `${p.cpu.toFixed(1)} %`, sortValue: (p) => p.cpu },
    { key: 'memory', header: 'Memory', numeric: true, cell: (p) => memoryText(p.memRssKb), sortValue: (p) => p.memRssKb },
    { key: 'command', header: 'Command line', className: 'mono details', cell: (p) => p.command, title: (p) => p.command },
    ...(canAct ? [{
      key: 'actions', header: 'Actions', headerHidden: true, className: 'nowrap',
      cell: (p: ProcessRow) => (
        <>
          <button type="button" className="secondary small" disabled={kill.isPending} onClick={() => end(p, 'SIGTERM')} aria-label={`End process ${p.pid}`}>End</button>{' '}
          <button type="button" className="secondary small" disabled={kill.isPending} onClick={() => end(p, 'SIGKILL')} aria-label={`Force-kill process ${p.pid}`}>Kill</button>
        </>
      ),
    } satisfies Column<ProcessRow>] : []),
  ];

  const needle = filter.trim().toLowerCase();
  const matches = (p: ProcessRow) => !needle || String(p.pid) === needle || p.name.toLowerCase().includes(needle)
    || p.user.toLowerCase().includes(needle) || p.command.toLowerCase().includes(needle);

  return (
    <Card title="Processes">
      <div className="row">
        <input type="search" aria-label="Filter processes" placeholder="Name, command line, user or PID" value={filter} onChange={(e) => setFilter(e.target.value)} />
        <button type="button" className="secondary" onClick={() => void query.refetch()} disabled={query.isFetching}>Refresh</button>
      </div>
      {notice ? <p className="ok small" role="status">{notice}</p> : null}
      {kill.error ? <ErrorNote error={kill.error} /> : null}
      <QueryView query={query} empty={(data) => (data.processes.length === 0 ? <Empty title="The device reported no processes" /> : null)}>
        {(data) => {
          const rows = data.processes.filter(matches);
          return (
            <>
              <DataTable caption="Processes" testId="processes-table" compact columns={columns} rows={rows.slice(0, SHOWN_ROWS)} rowKey={(p) => String(p.pid)}
                rowData={(p) => ({ 'data-pid': String(p.pid) })} empty={<Empty title="No process matches this filter" />} />
              {rows.length > SHOWN_ROWS ? <p className="muted small">{rows.length - SHOWN_ROWS} more processes match; narrow the filter to see them.</p> : null}
            </>
          );
        }}
      </QueryView>
    </Card>
  );
}
