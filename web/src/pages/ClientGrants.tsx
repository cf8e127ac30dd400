import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { counted, dateTime, toDate } from '../lib/format.ts';
import type { Outputs } from '../lib/trpc.ts';
import { Card, ErrorNote } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type Grant = Outputs['providers']['grants']['list'][number];
type Client = Outputs['providers']['clients'][number];
/** The server's GRANT_ROLES: a provider administers its clients, it never owns them. */
const GRANT_ROLES = ['viewer', 'technician', 'admin'] as const;
type GrantRole = (typeof GRANT_ROLES)[number];

/** Invalidates what a grant change alters: the list, and the switcher's organizations. */
function useGrantMutations() {
  const queryClient = useQueryClient();
  const onSuccess = () => {
    void queryClient.invalidateQueries(trpc.providers.grants.pathFilter());
    void queryClient.invalidateQueries(trpc.auth.organizations.queryFilter());
  };
  return {
    set: useMutation(trpc.providers.grants.set.mutationOptions({ onSuccess })),
    revoke: useMutation(trpc.providers.grants.revoke.mutationOptions({ onSuccess })),
  };
}

function AddGrant({ clients }: { clients: Client[] }) {
  const people = useQuery(trpc.users.list.queryOptions());
  const { set } = useGrantMutations();
  const [clientId, setClientId] = useState('');
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState<GrantRole>('technician');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    set.mutate({ organizationId: clientId, userId, role });
  };
  return (
    <form className="row wrap align-end" onSubmit={submit} aria-label="Grant access">
      <label>Person
        <select required value={userId} onChange={(e) => setUserId(e.target.value)}>
          <option value="">Choose…</option>
          {(people.data ?? []).map((person) => <option key={person.id} value={person.id}>{person.email}</option>)}
        </select>
      </label>
      <label>Client
        <select required value={clientId} onChange={(e) => setClientId(e.target.value)}>
          <option value="">Choose…</option>
          {clients.map((client) => <option key={client.id} value={client.id}>{client.name}</option>)}
        </select>
      </label>
      <label>Role
        <select value={role} onChange={(e) => setRole(e.target.value as GrantRole)}>
          {GRANT_ROLES.map((value) => <option key={value} value={value}>{value}</option>)}
        </select>
      </label>
      <button type="submit" disabled={set.isPending}>{set.isPending ? 'Granting…' : 'Grant'}</button>
      {set.error ? <ErrorNote error={set.error} /> : null}
    </form>
  );
}

/**
 * Grants: one of the provider's people given a stronger role in one client than their provider role
 * gives there. Changing or revoking one ends that person's sessions at once.
 */
export function ClientGrants({ clients }: { clients: Client[] }) {
  const grants = useQuery(trpc.providers.grants.list.queryOptions({}));
  const { set, revoke } = useGrantMutations();
  const columns: Column<Grant>[] = [
    { key: 'person', header: 'Person', cell: (grant) => grant.email, sortValue: (grant) => grant.email },
    { key: 'client', header: 'Client', cell: (grant) => grant.clientName, sortValue: (grant) => grant.clientName },
    {
      key: 'role', header: 'Role', sortValue: (grant) => grant.role,
      cell: (grant) => (
        <select aria-label={`Role of ${grant.email} in ${grant.clientName}`} value={grant.role} disabled={set.isPending}
          onChange={(e) => set.mutate({ organizationId: grant.clientId, userId: grant.userId, role: e.target.value as GrantRole })}>
          {GRANT_ROLES.map((value) => <option key={value} value={value}>{value}</option>)}
        </select>
      ),
    },
    { key: 'since', header: 'Since', cell: (grant) => dateTime(grant.createdAt), sortValue: (grant) => toDate(grant.createdAt)?.getTime() },
    {
      key: 'revoke', header: '',
      cell: (grant) => (
        <button type="button" className="danger small" disabled={revoke.isPending} aria-label={`Revoke ${grant.email} in ${grant.clientName}`}
          onClick={() => revoke.mutate({ organizationId: grant.clientId, userId: grant.userId })}>Revoke</button>
      ),
    },
  ];
  return (
    <Card title={grants.data ? counted(grants.data.length, 'grant') : 'Grants'}>
      <p className="muted small">
        Your people work in every client with the role they have here. A grant gives one person a stronger role in one client;
        revoking it ends their sessions at once.
      </p>
      <AddGrant clients={clients} />
      {revoke.error ? <ErrorNote error={revoke.error} /> : null}
      <DataTable
        caption="Grants"
        columns={columns}
        rows={grants.data}
        rowKey={(grant) => `${grant.userId}:${grant.clientId}`}
        empty={<p className="muted">No grants.</p>}
        error={grants.error}
        onRetry={() => void grants.refetch()}
      />
    </Card>
  );
}
