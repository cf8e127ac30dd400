import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { money } from '../lib/format.ts';
import { Card, Empty, ErrorNote, PageHeader, QueryView } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type Contract = Outputs['contracts']['show']['contracts'][number];

const nextMonth = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
};

/** What the organization pays: the prices in force and the contracts, for admins. */
export function ContractPage() {
  const queryClient = useQueryClient();
  const summary = useQuery(trpc.contracts.show.queryOptions());
  const [form, setForm] = useState({ perDevice: '5', perApiCall: '0.001', perGb: '0.10', currency: 'USD', startMonth: nextMonth(), endMonth: '' });
  const set = useMutation(trpc.contracts.set.mutationOptions({ onSuccess: () => void queryClient.invalidateQueries(trpc.contracts.pathFilter()) }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    set.mutate({
      perDevice: Number(form.perDevice), perApiCall: Number(form.perApiCall), perGb: Number(form.perGb),
      currency: form.currency.trim().toUpperCase(), startMonth: form.startMonth, endMonth: form.endMonth || null,
    });
  };
  const columns: Column<Contract>[] = [
    { key: 'from', header: 'From', cell: (row) => row.startsOn, sortValue: (row) => row.startsOn },
    { key: 'to', header: 'Until', cell: (row) => row.endsOn ?? 'Replaced by a later contract' },
    { key: 'device', header: 'Per device per month', numeric: true, cell: (row) => money(row.perDevice, row.currency) },
    { key: 'call', header: 'Per API call', numeric: true, cell: (row) => `${row.perApiCall} ${row.currency}` },
    { key: 'gb', header: 'Per GB', numeric: true, cell: (row) => money(row.perGb, row.currency) },
  ];
  const field = (key: keyof typeof form, text: string, props: Record<string, unknown> = {}) => (
    <label>
      {text}
      <input value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.value })} {...props} />
    </label>
  );

  return (
    <>
      <PageHeader title="Contract" />
      <Card title="Prices in force">
        <QueryView query={summary}>
          {(data) => (
            <>
              <dl className="fields">
                <div><dt>Per device per month</dt><dd className="num">{money(data.rates.perDevice, data.rates.currency)}</dd></div>
                <div><dt>Per API call by people and API keys</dt><dd className="num">{data.rates.perApiCall} {data.rates.currency}</dd></div>
                <div><dt>Per GB stored</dt><dd className="num">{money(data.rates.perGb, data.rates.currency)}</dd></div>
              </dl>
              <p className="muted small">{data.inForce ? `Contract from ${data.inForce.startsOn}.` : 'No contract: the list prices apply.'} Agents' check-ins are never billed.</p>
            </>
          )}
        </QueryView>
      </Card>
      <Card title="New contract">
        <p className="small muted">A contract starts on the first of a month, next month at the earliest (days already billed keep their prices), and replaces the contract running then.</p>
        <form className="row wrap align-end" onSubmit={submit} aria-label="New contract">
          {field('perDevice', 'Per device per month', { type: 'number', min: 0, step: 'any', required: true, className: 'narrow' })}
          {field('perApiCall', 'Per API call', { type: 'number', min: 0, step: 'any', required: true, className: 'narrow' })}
          {field('perGb', 'Per GB', { type: 'number', min: 0, step: 'any', required: true, className: 'narrow' })}
          {field('currency', 'Currency', { pattern: '[A-Za-z]{3}', maxLength: 3, required: true, className: 'narrow' })}
          {field('startMonth', 'First month', { type: 'month', min: nextMonth(), required: true })}
          {field('endMonth', 'Last month (optional)', { type: 'month' })}
          <button type="submit" disabled={set.isPending}>{set.isPending ? 'Saving…' : 'Save contract'}</button>
        </form>
        {set.error ? <ErrorNote error={set.error} /> : null}
      </Card>
      <Card title="Contracts">
        <DataTable
          caption="Contracts"
          columns={columns}
          rows={summary.data?.contracts}
          rowKey={(row) => row.id}
          empty={<Empty title="No contracts">The list prices apply until you add one.</Empty>}
          error={summary.error}
          onRetry={() => void summary.refetch()}
        />
      </Card>
    </>
  );
}
