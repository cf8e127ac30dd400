import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { dateTime, toDate } from '../lib/format.ts';
import { Card, CopyButton, Empty, ErrorNote, PageHeader, StatusBadge } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

const EXPIRY_CHOICES = [
  { sec: 60 * 60, text: '1 hour' },
  { sec: 24 * 60 * 60, text: '1 day' },
  { sec: 7 * 24 * 60 * 60, text: '7 days' },
  { sec: 30 * 24 * 60 * 60, text: '30 days' },
  { sec: 365 * 24 * 60 * 60, text: '1 year' },
];

type TokenRecord = Outputs['tokens']['list'][number];
/** A new token with the install lines the server can serve for it (and how to publish the others). */
type InstallLink = Outputs['updates']['installLinks'];
type InstallOption = InstallLink['options'][number];

function tokenState(token: TokenRecord, now: number): string {
  if (token.revokedAt) return 'revoked';
  if ((toDate(token.expiresAt)?.getTime() ?? 0) <= now) return 'expired';
  if (token.uses >= token.maxUses) return 'used up';
  return 'active';
}

/** One OS: the line to paste, or why there is none and the command that publishes its package. */
function InstallOptionItem({ option }: { option: InstallOption }) {
  return (
    <li data-install-option={option.id}>
      <span className="os">{option.title}</span>
      {option.line ? (
        <>
          <p className="small muted">{option.how}</p>
          <div className="copy-line">
            <code>{option.line}</code>
            <CopyButton text={option.line} label={`Copy ${option.title} line`} />
          </div>
        </>
      ) : (
        <>
          <p className="small" data-testid="unavailable"><span className="badge badge-muted">Not available</span> {option.unavailable?.reason}</p>
          {option.unavailable?.publish ? (
            <div className="copy-line">
              {/* Several commands, one per line: kept as lines, wrapped rather than scrolled. */}
              <code style={{ whiteSpace: 'pre-wrap' }}>{option.unavailable.publish}</code>
              <CopyButton text={option.unavailable.publish} label={`Copy how to publish for ${option.title}`} />
            </div>
          ) : null}
        </>
      )}
    </li>
  );
}

function NewToken({ link }: { link: InstallLink }) {
  return (
    <Card title={`Token "${link.name}" created`} className="highlight">
      <p>Copy it now: it is shown only once.</p>
      <div className="copy-line">
        <code data-testid="new-token">{link.token}</code>
        <CopyButton text={link.token} label="Copy token" />
      </div>
      <h3>Install lines</h3>
      {link.notes.map((note) => (
        <p key={note} className="small" role="note"><span className="badge badge-warn">Warning</span> {note}</p>
      ))}
      <ul className="install-lines">
        {link.options.map((option) => <InstallOptionItem key={option.id} option={option} />)}
      </ul>
    </Card>
  );
}

export function TokensPage() {
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const [name, setName] = useState('');
  const [expiresInSec, setExpiresInSec] = useState(7 * 24 * 60 * 60);
  const [maxUses, setMaxUses] = useState(1);
  const [created, setCreated] = useState<InstallLink | null>(null);

  const create = useMutation(trpc.updates.installLinks.mutationOptions({
    onSuccess: (result) => {
      setCreated(result);
      setName('');
      void queryClient.invalidateQueries(trpc.tokens.pathFilter());
    },
  }));
  const revoke = useMutation(trpc.tokens.revoke.mutationOptions({
    onSuccess: () => void queryClient.invalidateQueries(trpc.tokens.pathFilter()),
  }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    // The server builds the lines: it knows which packages it has, and the address devices use is this page's.
    create.mutate({ name: name.trim() || 'Enrollment token', expiresInSec, maxUses, serverUrl: location.origin });
  };
  const now = Date.now();
  const columns: Column<TokenRecord>[] = [
    { key: 'name', header: 'Name', cell: (token) => token.name, sortValue: (token) => token.name },
    { key: 'state', header: 'State', cell: (token) => <StatusBadge status={tokenState(token, now)} />, sortValue: (token) => tokenState(token, now) },
    { key: 'uses', header: 'Uses', numeric: true, cell: (token) => `${token.uses} / ${token.maxUses}`, sortValue: (token) => token.uses },
    { key: 'expires', header: 'Expires', cell: (token) => dateTime(token.expiresAt), sortValue: (token) => toDate(token.expiresAt)?.getTime() },
    { key: 'created', header: 'Created', cell: (token) => dateTime(token.createdAt), sortValue: (token) => toDate(token.createdAt)?.getTime() },
    {
      key: 'actions', header: 'Actions', headerHidden: true, numeric: true,
      cell: (token) => (tokenState(token, now) === 'active' ? (
        <button
          type="button"
          className="danger small"
          disabled={revoke.isPending}
          aria-label={`Revoke token ${token.name}`}
          onClick={() => {
            if (confirm(`Revoke "${token.name}"? Devices can no longer enroll with it.`)) revoke.mutate({ id: token.id });
          }}
        >
          Revoke
        </button>
      ) : null),
    },
  ];

  return (
    <>
      <PageHeader title="Enrollment tokens" />
      <Card title="New token">
        <form className="row wrap align-end" onSubmit={submit}>
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Office laptops" maxLength={255} />
          </label>
          <label>
            Expires in
            <select value={expiresInSec} onChange={(e) => setExpiresInSec(Number(e.target.value))}>
              {EXPIRY_CHOICES.map((choice) => <option key={choice.sec} value={choice.sec}>{choice.text}</option>)}
            </select>
          </label>
          <label>
            Max uses
            <input type="number" min={1} max={100_000} value={maxUses} onChange={(e) => setMaxUses(Number(e.target.value))} className="narrow" />
          </label>
          <button type="submit" disabled={create.isPending}>{create.isPending ? 'Creating…' : 'Create token'}</button>
        </form>
        {create.error ? <ErrorNote error={create.error} /> : null}
      </Card>
      {created ? <NewToken link={created} /> : null}
      <Card title="Tokens">
        {revoke.error ? <ErrorNote error={revoke.error} /> : null}
        <DataTable
          caption="Enrollment tokens"
          columns={columns}
          rows={tokens.data}
          rowKey={(token) => token.id}
          rowData={(token) => ({ 'data-token-id': token.id })}
          empty={<Empty title="No tokens yet">Create one above to enroll devices.</Empty>}
          error={tokens.error}
          onRetry={() => void tokens.refetch()}
        />
      </Card>
    </>
  );
}
