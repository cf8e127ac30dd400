import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, type Outputs } from '../lib/trpc.ts';
import { dateTime } from '../lib/format.ts';
import { Card, Empty, PageHeader, QueryView } from '../components/ui.tsx';
import { Person } from './Tickets.tsx';

const PAGE = 200;
const MAX_VALUE_CHARS = 80;

/** Details as `key: value` pairs, short values first; long ones are cut (the full entry stays in the log). */
function describe(details: Record<string, unknown>): string {
  const pairs = Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => {
      const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
      return `${key}: ${text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text}`;
    });
  return pairs.length > 0 ? pairs.join(' · ') : '—';
}
export type AuditRow = Outputs['audit']['list'][number];

/** The audit rows as a table; shared by the audit page and a device's audit trail. */
export function AuditTable({ rows, emptyText }: { rows: AuditRow[]; emptyText: string }) {
  if (rows.length === 0) return <Empty title={emptyText} />;
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">Audit log</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Details</th><th scope="col">IP</th></tr></thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td className="nowrap">{dateTime(row.timestamp)}</td>
              <td>{row.userId ? <Person id={row.userId} /> : <span className="muted">system</span>}</td>
              <td><code>{row.action}</code></td>
              <td className="mono small">{row.resourceId ? row.resourceId.slice(0, 8) : '—'}</td>
              <td className="details">{describe(row.details)}</td>
              <td className="mono small">{row.ipAddress ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface Filters {
  action: string;
  since: string;
}

/** Every audited action in the organization, newest first. */
export function AuditPage() {
  const [draft, setDraft] = useState<Filters>({ action: '', since: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const audit = useQuery({
    queryKey: ['audit.list', filters],
    queryFn: () => api().audit.list.query({
      ...(filters.action ? { action: filters.action } : {}),
      ...(filters.since ? { since: new Date(filters.since) } : {}),
      limit: PAGE,
    }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilters({ action: draft.action.trim(), since: draft.since });
  };
  return (
    <>
      <PageHeader title="Audit log" />
      <form className="toolbar" onSubmit={submit} role="search">
        <label>Action<input value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })} placeholder="e.g. command.run" /></label>
        <label>Since<input type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} /></label>
        <button type="submit" className="secondary">Filter</button>
      </form>
      <Card>
        <QueryView query={audit}>{(rows) => <AuditTable rows={rows} emptyText="No audited actions match" />}</QueryView>
      </Card>
    </>
  );
}
