import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import type { Me } from '../lib/auth.ts';
import { roleAtLeast } from '../lib/auth.ts';
import { Card, Empty, ErrorNote, PageHeader } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type Asset = Outputs['assets']['list']['items'][number];

const WARRANTY_CHOICES = [
  { days: '', text: 'Any warranty' },
  { days: '30', text: 'Warranty ends within 30 days' },
  { days: '90', text: 'Warranty ends within 90 days' },
  { days: '365', text: 'Warranty ends within a year' },
];

const EMPTY_FORM = { name: '', kind: 'laptop', serial: '', manufacturer: '', model: '', purchaseDate: '', warrantyEnd: '', assignee: '', location: '', notes: '' };
type Form = typeof EMPTY_FORM;
const FIELD_LABELS: [keyof Form, string, string?][] = [
  ['name', 'Name'], ['kind', 'Kind'], ['serial', 'Serial number'], ['manufacturer', 'Manufacturer'], ['model', 'Model'],
  ['purchaseDate', 'Bought on', 'date'], ['warrantyEnd', 'Warranty ends', 'date'], ['assignee', 'Assigned to'], ['location', 'Location'], ['notes', 'Notes'],
];

/** Days left on a warranty: negative once it has ended. */
function daysLeft(warrantyEnd: string | null): number | null {
  if (!warrantyEnd) return null;
  return Math.ceil((Date.parse(`${warrantyEnd}T00:00:00Z`) - Date.now()) / 86_400_000);
}

function Warranty({ asset }: { asset: Asset }) {
  const left = daysLeft(asset.warrantyEnd);
  if (left === null) return <span className="muted">Not recorded</span>;
  const badge = left < 0 ? <span className="badge badge-muted">Ended</span> : left <= 30 ? <span className="badge badge-warn">{left} days left</span> : null;
  return <>{asset.warrantyEnd} {badge}</>;
}

/** Hardware the organization owns, enrolled or not: technicians look things up, admins keep the list. */
export function AssetsPage({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const canEdit = roleAtLeast(me.role, 'admin');
  const [search, setSearch] = useState('');
  const [warrantyDays, setWarrantyDays] = useState('');
  const [form, setForm] = useState<Form>(EMPTY_FORM);
  const filter = { search: search.trim() || undefined, warrantyWithinDays: warrantyDays ? Number(warrantyDays) : undefined, limit: 500 };
  const assets = useQuery(trpc.assets.list.queryOptions(filter));
  const refresh = () => void queryClient.invalidateQueries(trpc.assets.pathFilter());
  const create = useMutation(trpc.assets.create.mutationOptions({ onSuccess: () => { setForm(EMPTY_FORM); refresh(); } }));
  const remove = useMutation(trpc.assets.remove.mutationOptions({ onSuccess: refresh }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const optional = (value: string) => value.trim() || null;
    create.mutate({
      name: form.name, kind: form.kind, serial: optional(form.serial), manufacturer: optional(form.manufacturer), model: optional(form.model),
      purchaseDate: optional(form.purchaseDate), warrantyEnd: optional(form.warrantyEnd), assignee: optional(form.assignee),
      location: optional(form.location), notes: optional(form.notes),
    });
  };

  const columns: Column<Asset>[] = [
    { key: 'name', header: 'Name', cell: (asset) => asset.name, sortValue: (asset) => asset.name },
    { key: 'kind', header: 'Kind', cell: (asset) => asset.kind, sortValue: (asset) => asset.kind },
    { key: 'serial', header: 'Serial', className: 'mono', cell: (asset) => asset.serial ?? '—', sortValue: (asset) => asset.serial },
    { key: 'model', header: 'Make and model', cell: (asset) => [asset.manufacturer, asset.model].filter(Boolean).join(' ') || '—' },
    { key: 'assignee', header: 'Assigned to', cell: (asset) => asset.assignee ?? '—', sortValue: (asset) => asset.assignee },
    { key: 'location', header: 'Location', cell: (asset) => asset.location ?? '—', sortValue: (asset) => asset.location },
    { key: 'warranty', header: 'Warranty ends', cell: (asset) => <Warranty asset={asset} />, sortValue: (asset) => asset.warrantyEnd },
    {
      key: 'device', header: 'Enrolled device',
      cell: (asset) => (asset.deviceId ? <a href={`/devices/${asset.deviceId}`}>{asset.deviceName ?? 'Device'}</a> : <span className="muted">Not enrolled</span>),
    },
    ...(canEdit ? [{
      key: 'actions', header: 'Actions', headerHidden: true, numeric: true,
      cell: (asset: Asset) => (
        <button
          type="button"
          className="danger small"
          disabled={remove.isPending}
          aria-label={`Remove asset ${asset.name}`}
          onClick={() => {
            if (confirm(`Remove "${asset.name}" from the asset list?`)) remove.mutate({ id: asset.id });
          }}
        >
          Remove
        </button>
      ),
    }] : []),
  ];

  return (
    <>
      <PageHeader title="Assets" />
      {canEdit ? (
        <Card title="Add an asset">
          <form className="row wrap align-end" onSubmit={submit} aria-label="Add an asset">
            {FIELD_LABELS.map(([key, text, type]) => (
              <label key={key}>
                {text}
                <input
                  type={type ?? 'text'}
                  value={form[key]}
                  required={key === 'name' || key === 'kind'}
                  maxLength={key === 'notes' ? 4_000 : 200}
                  onChange={(e) => setForm({ ...form, [key]: e.target.value })}
                />
              </label>
            ))}
            <button type="submit" disabled={create.isPending}>{create.isPending ? 'Adding…' : 'Add asset'}</button>
          </form>
          {create.error ? <ErrorNote error={create.error} /> : null}
        </Card>
      ) : null}
      <Card title="Hardware">
        <div className="row wrap align-end">
          <label>
            Search
            <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name, serial, model, person, place" maxLength={200} />
          </label>
          <label>
            Warranty
            <select value={warrantyDays} onChange={(e) => setWarrantyDays(e.target.value)}>
              {WARRANTY_CHOICES.map((choice) => <option key={choice.days} value={choice.days}>{choice.text}</option>)}
            </select>
          </label>
        </div>
        {remove.error ? <ErrorNote error={remove.error} /> : null}
        <DataTable
          caption="Assets"
          columns={columns}
          rows={assets.data?.items}
          rowKey={(asset) => asset.id}
          rowData={(asset) => ({ 'data-asset-id': asset.id })}
          empty={<Empty title="No assets found">{canEdit ? 'Add the hardware you look after above.' : 'An admin adds hardware here.'}</Empty>}
          error={assets.error}
          onRetry={() => void assets.refetch()}
        />
        {assets.data && assets.data.total > assets.data.items.length ? (
          <p className="small muted">Showing {assets.data.items.length} of {assets.data.total}: search to narrow the list.</p>
        ) : null}
      </Card>
    </>
  );
}

/** The device page's note of which asset this device is (technicians and up). */
export function DeviceAssetCard({ deviceId }: { deviceId: string }) {
  const asset = useQuery(trpc.assets.forDevice.queryOptions({ deviceId }));
  return (
    <Card title="Asset">
      {asset.error ? <ErrorNote error={asset.error} onRetry={() => void asset.refetch()} /> : null}
      {asset.data === null ? <p className="muted">Not linked to an asset. An admin links it on the <a href="/assets">Assets</a> page.</p> : null}
      {asset.data ? (
        <dl className="fields">
          <div><dt>Asset</dt><dd>{asset.data.name} ({asset.data.kind})</dd></div>
          <div><dt>Serial</dt><dd className="mono">{asset.data.serial ?? '—'}</dd></div>
          <div><dt>Assigned to</dt><dd>{asset.data.assignee ?? '—'}</dd></div>
          <div><dt>Location</dt><dd>{asset.data.location ?? '—'}</dd></div>
          <div><dt>Warranty ends</dt><dd><Warranty asset={asset.data} /></dd></div>
        </dl>
      ) : null}
    </Card>
  );
}
