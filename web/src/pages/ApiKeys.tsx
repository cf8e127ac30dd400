import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { API_KEY_SCOPES, type ApiKeyScope } from '@ninjait/shared';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { dateTime, toDate } from '../lib/format.ts';
import { Card, CopyButton, Empty, ErrorNote, PageHeader, StatusBadge } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type KeyRecord = Outputs['apiKeys']['list'][number];

/** What each scope lets an integration do, in a technician's words. */
const SCOPE_TEXT: Record<ApiKeyScope, string> = {
  'devices:read': 'Read devices and their data',
  'commands:run': 'Run commands on devices',
  'tickets:manage': 'Create and change tickets',
  'analytics:read': 'Read reports',
  admin: 'Administer (everything your role allows)',
};

const EXPIRY_CHOICES: { days: number | null; text: string }[] = [
  { days: 30, text: '30 days' }, { days: 90, text: '90 days' }, { days: 365, text: '1 year' }, { days: 730, text: '2 years' }, { days: null, text: 'Never (until revoked)' },
];

function keyState(key: KeyRecord, now: number): string {
  if (key.revokedAt) return 'revoked';
  const expires = toDate(key.expiresAt)?.getTime();
  if (expires !== undefined && expires <= now) return 'expired';
  return 'active';
}

/** API keys for integrations (PSA, scripts): long-lived, scoped, shown once. */
export function ApiKeysPage() {
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>(['devices:read']);
  const [expiresInDays, setExpiresInDays] = useState<number | null>(90);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const refresh = () => void queryClient.invalidateQueries(trpc.apiKeys.pathFilter());

  const create = useMutation(trpc.apiKeys.create.mutationOptions({
    onSuccess: (result) => {
      setCreated({ name: result.record.name, key: result.key });
      setName('');
      refresh();
    },
  }));
  const revoke = useMutation(trpc.apiKeys.revoke.mutationOptions({ onSuccess: refresh }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim() || 'Integration', scopes, expiresInDays });
  };
  const toggle = (scope: ApiKeyScope, on: boolean) => setScopes((current) => (on ? [...current, scope] : current.filter((s) => s !== scope)));
  const now = Date.now();
  const columns: Column<KeyRecord>[] = [
    { key: 'name', header: 'Name', cell: (key) => key.name, sortValue: (key) => key.name },
    { key: 'prefix', header: 'Starts with', cell: (key) => <code>{key.keyPrefix}…</code> },
    { key: 'scopes', header: 'Allowed to', cell: (key) => key.scopes.join(', ') },
    { key: 'state', header: 'State', cell: (key) => <StatusBadge status={keyState(key, now)} />, sortValue: (key) => keyState(key, now) },
    { key: 'lastUsed', header: 'Last used', cell: (key) => (key.lastUsedAt ? dateTime(key.lastUsedAt) : 'Never'), sortValue: (key) => toDate(key.lastUsedAt)?.getTime() ?? 0 },
    { key: 'expires', header: 'Expires', cell: (key) => (key.expiresAt ? dateTime(key.expiresAt) : 'Never'), sortValue: (key) => toDate(key.expiresAt)?.getTime() },
    { key: 'owner', header: 'Made by', cell: (key) => key.createdByEmail },
    {
      key: 'actions', header: 'Actions', headerHidden: true, numeric: true,
      cell: (key) => (keyState(key, now) === 'active' ? (
        <button
          type="button" className="danger small" disabled={revoke.isPending} aria-label={`Revoke key ${key.name}`}
          onClick={() => { if (confirm(`Revoke "${key.name}"? Integrations using it stop working at once.`)) revoke.mutate({ id: key.id }); }}
        >
          Revoke
        </button>
      ) : null),
    },
  ];

  return (
    <>
      <PageHeader title="API keys" />
      <p className="muted">Keys let scripts and tools such as your PSA call NinjaIT (REST at /api/v1, described at /api/openapi.json) with an <code>Authorization: Bearer</code> header. A key never does more than you can.</p>
      <Card title="New key">
        <form onSubmit={submit}>
          <div className="row wrap align-end">
            <label>
              Name
              <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. PSA sync" maxLength={100} />
            </label>
            <label>
              Expires in
              <select value={String(expiresInDays)} onChange={(e) => setExpiresInDays(e.target.value === 'null' ? null : Number(e.target.value))}>
                {EXPIRY_CHOICES.map((choice) => <option key={String(choice.days)} value={String(choice.days)}>{choice.text}</option>)}
              </select>
            </label>
          </div>
          <fieldset>
            <legend>Allowed to</legend>
            {API_KEY_SCOPES.map((scope) => (
              <label key={scope} className="inline">
                <input type="checkbox" name="scope" value={scope} checked={scopes.includes(scope)} onChange={(e) => toggle(scope, e.target.checked)} />
                {SCOPE_TEXT[scope]}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={create.isPending || scopes.length === 0}>{create.isPending ? 'Creating…' : 'Create key'}</button>
        </form>
        {create.error ? <ErrorNote error={create.error} /> : null}
      </Card>
      {created ? (
        <Card title={`Key "${created.name}" created`} className="highlight">
          <p>Copy it now: it is shown only once. NinjaIT keeps only a hash of it.</p>
          <div className="copy-line">
            <code data-testid="new-api-key">{created.key}</code>
            <CopyButton text={created.key} label="Copy key" />
          </div>
        </Card>
      ) : null}
      <Card title="Keys">
        {revoke.error ? <ErrorNote error={revoke.error} /> : null}
        <DataTable
          caption="API keys"
          columns={columns}
          rows={keys.data}
          rowKey={(key) => key.id}
          rowData={(key) => ({ 'data-key-id': key.id })}
          empty={<Empty title="No API keys yet">Create one above for an integration.</Empty>}
          error={keys.error}
          onRetry={() => void keys.refetch()}
        />
      </Card>
    </>
  );
}
