import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../lib/trpc.ts';
import { dateTime, toDate } from '../lib/format.ts';
import { Card, CopyButton, Empty, ErrorNote, PageHeader, QueryView, StatusBadge } from '../components/ui.tsx';

const EXPIRY_CHOICES = [
  { sec: 60 * 60, text: '1 hour' },
  { sec: 24 * 60 * 60, text: '1 day' },
  { sec: 7 * 24 * 60 * 60, text: '7 days' },
  { sec: 30 * 24 * 60 * 60, text: '30 days' },
  { sec: 365 * 24 * 60 * 60, text: '1 year' },
];

type TokenRecord = Awaited<ReturnType<ReturnType<typeof api>['tokens']['list']['query']>>[number];

function tokenState(token: TokenRecord, now: number): string {
  if (token.revokedAt) return 'revoked';
  if ((toDate(token.expiresAt)?.getTime() ?? 0) <= now) return 'expired';
  if (token.uses >= token.maxUses) return 'used up';
  return 'active';
}

/** The install line per OS, with this server and the token filled in. */
export function installLines(server: string, token: string) {
  return [
    { os: 'Linux', line: `curl -fsSL ${server}/install.sh | sudo NINJAIT_SERVER=${server} NINJAIT_TOKEN=${token} sh` },
    { os: 'macOS', line: `curl -fsSL ${server}/install.sh | sudo NINJAIT_SERVER=${server} NINJAIT_TOKEN=${token} sh` },
    { os: 'Windows (PowerShell, as administrator)', line: `$env:NINJAIT_SERVER='${server}'; $env:NINJAIT_TOKEN='${token}'; irm ${server}/install.ps1 | iex` },
    { os: 'Any OS with Node.js (from the repository)', line: `npx ninjait-agent enroll --server ${server} --token ${token} && npx ninjait-agent run` },
  ];
}

function NewToken({ token, name }: { token: string; name: string }) {
  const server = location.origin;
  return (
    <Card title={`Token "${name}" created`} className="highlight">
      <p>Copy it now: it is shown only once.</p>
      <div className="copy-line">
        <code data-testid="new-token">{token}</code>
        <CopyButton text={token} label="Copy token" />
      </div>
      <h3>Install line</h3>
      <ul className="install-lines">
        {installLines(server, token).map(({ os, line }) => (
          <li key={os}>
            <span className="os">{os}</span>
            <div className="copy-line">
              <code>{line}</code>
              <CopyButton text={line} label={`Copy ${os.split(' ')[0]} line`} />
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}

export function TokensPage() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens.list'], queryFn: () => api().tokens.list.query() });
  const [name, setName] = useState('');
  const [expiresInSec, setExpiresInSec] = useState(7 * 24 * 60 * 60);
  const [maxUses, setMaxUses] = useState(1);
  const [created, setCreated] = useState<{ token: string; name: string } | null>(null);

  const create = useMutation({
    mutationFn: () => api().tokens.create.mutate({ name: name.trim() || 'Enrollment token', expiresInSec, maxUses }),
    onSuccess: (result) => {
      setCreated({ token: result.token, name: result.record.name });
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['tokens.list'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api().tokens.revoke.mutate({ id }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['tokens.list'] }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const now = Date.now();

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
      {created ? <NewToken token={created.token} name={created.name} /> : null}
      <Card title="Tokens">
        {revoke.error ? <ErrorNote error={revoke.error} /> : null}
        <QueryView query={tokens} empty={(rows) => (rows.length === 0 ? <Empty title="No tokens yet">Create one above to enroll devices.</Empty> : null)}>
          {(rows) => (
            <div className="table-wrap">
              <table className="table">
                <caption className="sr-only">Enrollment tokens</caption>
                <thead>
                  <tr><th scope="col">Name</th><th scope="col">State</th><th scope="col" className="num">Uses</th><th scope="col">Expires</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr>
                </thead>
                <tbody>
                  {rows.map((token) => {
                    const state = tokenState(token, now);
                    return (
                      <tr key={token.id} data-token-id={token.id}>
                        <td>{token.name}</td>
                        <td><StatusBadge status={state} /></td>
                        <td className="num">{token.uses} / {token.maxUses}</td>
                        <td>{dateTime(token.expiresAt)}</td>
                        <td>{dateTime(token.createdAt)}</td>
                        <td className="num">
                          {state === 'active' ? (
                            <button
                              type="button"
                              className="danger small"
                              disabled={revoke.isPending}
                              aria-label={`Revoke token ${token.name}`}
                              onClick={() => {
                                if (confirm(`Revoke "${token.name}"? Devices can no longer enroll with it.`)) revoke.mutate(token.id);
                              }}
                            >
                              Revoke
                            </button>
                          ) : null}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      </Card>
    </>
  );
}
