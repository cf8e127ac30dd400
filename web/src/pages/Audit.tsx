import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { roleAtLeast, useMe } from '../lib/auth.ts';
import { auditParts, deviceIdsOf, type AuditNames } from '../lib/audit-text.ts';
import { ago, dateTime } from '../lib/format.ts';
import { Card, PageHeader, QueryView } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

const PAGE = 200;
/** devices.list names at most this many ids in one call (DEVICE_PAGE_MAX in shared/src/schemas/devices.ts). */
const DEVICE_PAGE_MAX = 500;

export type AuditRow = Outputs['audit']['list'][number];

/** What the filter offers, in words; the values are the server's action names. */
const ACTIONS: [string, string][] = [
  ['command.run', 'Commands run'],
  ['shell.open', 'Shells opened'],
  ['shell.input', 'Typed in a shell'],
  ['job.create', 'Jobs started'],
  ['auth.login', 'Logins'],
  ['auth.login_failed', 'Failed logins'],
  ['user.create', 'People added'],
  ['user.update', 'Roles changed'],
  ['user.delete', 'People removed'],
  ['user.password_reset', 'Passwords reset'],
  ['token.create', 'Enrollment tokens created'],
  ['token.revoke', 'Enrollment tokens revoked'],
  ['device.enrolled', 'Devices enrolled'],
  ['device.delete', 'Devices decommissioned'],
  ['ticket.create', 'Tickets opened'],
  ['ticket.close', 'Tickets closed'],
  ['organization.create', 'Organizations created'],
];

/**
 * Names for the people and devices a page of entries mentions: the organization's people (removed
 * ones too, history still names them; admins only) and the named devices, in one call each.
 */
function useAuditNames(rows: AuditRow[]): AuditNames {
  const me = useMe();
  const isAdmin = roleAtLeast(me.data?.role, 'admin');
  const people = useQuery(trpc.users.list.queryOptions({ includeRemoved: true }, { enabled: isAdmin }));
  const deviceIds = [...new Set(rows.flatMap(deviceIdsOf))].slice(0, DEVICE_PAGE_MAX);
  const named = { deviceIds, limit: DEVICE_PAGE_MAX };
  const devices = useQuery(trpc.devices.list.queryOptions(named, { enabled: deviceIds.length > 0 }));
  const personById = new Map(people.data?.map((person) => [person.id, person.name ?? person.email]));
  const deviceById = new Map(devices.data?.items.map((device) => [device.id, device.name]));
  return { meId: me.data?.userId, person: (id) => personById.get(id) ?? null, device: (id) => deviceById.get(id) ?? null };
}

/** The audit rows as sentences, newest first; shared by the audit page and a device's history. */
export function AuditTable({ rows, emptyText }: { rows: AuditRow[]; emptyText: string }) {
  const names = useAuditNames(rows);
  const columns: Column<AuditRow>[] = [
    {
      key: 'when', header: 'When', className: 'nowrap', title: (row) => dateTime(row.timestamp), cell: (row) => ago(row.timestamp),
      sortValue: (row) => new Date(row.timestamp).getTime(),
    },
    {
      key: 'what', header: 'What happened', className: 'details',
      cell: (row) => (
        <>
          <span className="audit-sentence">
            {auditParts(row, names).map((part, i) => (typeof part === 'string' ? <span key={i}>{part}</span> : <code key={i}>{part.code}</code>))}
          </span>
          <details>
            <summary className="muted small">Details</summary>
            <pre className="small">{JSON.stringify({ action: row.action, at: dateTime(row.timestamp), resourceId: row.resourceId, userId: row.userId, ...row.details }, null, 2)}</pre>
          </details>
        </>
      ),
    },
    { key: 'from', header: 'From', className: 'small', cell: (row) => row.ipAddress ?? <span className="muted">—</span>, sortValue: (row) => row.ipAddress },
  ];
  return <DataTable caption="Audit log" columns={columns} rows={rows} rowKey={(row) => row.id} empty={emptyText} />;
}

interface Filters {
  action: string;
  since: string;
}

/** Every audited action in the organization, newest first. */
export function AuditPage() {
  const [draft, setDraft] = useState<Filters>({ action: '', since: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const audit = useQuery(trpc.audit.list.queryOptions({
    ...(filters.action ? { action: filters.action } : {}),
    ...(filters.since ? { since: new Date(filters.since) } : {}),
    limit: PAGE,
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };
  return (
    <>
      <PageHeader title="Audit log" />
      <form className="toolbar" onSubmit={submit} role="search">
        <label>
          Show
          <select value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })}>
            <option value="">Everything</option>
            {ACTIONS.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
          </select>
        </label>
        <label>Since<input type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} /></label>
        <button type="submit" className="secondary">Filter</button>
      </form>
      <Card>
        <QueryView query={audit}>{(rows) => <AuditTable rows={rows} emptyText="Nothing recorded matches" />}</QueryView>
      </Card>
    </>
  );
}
