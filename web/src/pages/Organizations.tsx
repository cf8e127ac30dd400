import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import type { Me } from '../lib/auth.ts';
import { counted, dateTime, label, toDate } from '../lib/format.ts';
import type { Outputs } from '../lib/trpc.ts';
import { Card, CopyButton, ErrorNote, PageHeader } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type Organization = Outputs['organizations']['list'][number];

/** A new organization and the first person in it, who then adds the others. */
function CreateOrganization() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [personName, setPersonName] = useState('');
  const [role, setRole] = useState<'owner' | 'admin'>('owner');
  const [provider, setProvider] = useState(false);
  const create = useMutation(trpc.organizations.create.mutationOptions({
    onSuccess: () => {
      setName('');
      setEmail('');
      setPersonName('');
      void queryClient.invalidateQueries(trpc.organizations.pathFilter());
    },
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), email: email.trim(), role, provider, ...(personName.trim() ? { personName: personName.trim() } : {}) });
  };
  const created = create.data;
  return (
    <Card title="Create an organization">
      <form className="stack" onSubmit={submit}>
        <label>Organization name<input required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" /></label>
        <div className="row wrap align-end">
          <label>First person's email<input type="email" required maxLength={255} value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" /></label>
          <label>Their name<input maxLength={255} value={personName} onChange={(e) => setPersonName(e.target.value)} autoComplete="off" /></label>
          <label>
            Their role
            <select value={role} onChange={(e) => setRole(e.target.value as 'owner' | 'admin')}>
              <option value="owner">Owner</option>
              <option value="admin">Admin</option>
            </select>
          </label>
        </div>
        <label className="row align-center">
          <input type="checkbox" checked={provider} onChange={(e) => setProvider(e.target.checked)} />
          Provider: an IT provider whose admins add client organizations and whose technicians work in them
        </label>
        <p className="muted small">They log in with the password shown once below and add the rest of their people. They see only their own organization.</p>
        <div><button type="submit" disabled={create.isPending}>{create.isPending ? 'Creating…' : 'Create organization'}</button></div>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
      {created ? (
        <div className="card highlight" role="status" aria-label="Organization created">
          <p>
            Created <strong>{created.name}</strong>. {created.firstPerson.email} logs in as {label(created.firstPerson.role).toLowerCase()}
            {created.initialPassword ? <> with the password <code data-testid="one-time-password">{created.initialPassword}</code> <CopyButton text={created.initialPassword} label="Copy password" /></> : null}
          </p>
          {created.initialPassword ? <p className="muted small">The password is shown only now; they can change it on their My account page.</p> : null}
        </div>
      ) : null}
    </Card>
  );
}

/**
 * Organizations an owner manages. The owners of the organization that runs this server see every
 * one and create new ones; an owner elsewhere sees their own.
 */
export function OrganizationsPage({ me }: { me: Me }) {
  const organizations = useQuery(trpc.organizations.list.queryOptions());
  const columns: Column<Organization>[] = [
    {
      key: 'name', header: 'Name', sortValue: (org) => org.name,
      cell: (org) => <>{org.name}{org.id === me.organizationId ? <span className="muted"> (yours)</span> : null}</>,
    },
    { key: 'people', header: 'People', cell: (org) => counted(org.people, 'person', 'people'), sortValue: (org) => org.people },
    { key: 'devices', header: 'Devices', cell: (org) => counted(org.devices, 'device'), sortValue: (org) => org.devices },
    { key: 'created', header: 'Created', cell: (org) => dateTime(org.createdAt), sortValue: (org) => toDate(org.createdAt)?.getTime() },
  ];
  return (
    <>
      <PageHeader title="Organizations" />
      {me.runsServer ? <CreateOrganization /> : (
        <p className="muted">Each organization sees only its own devices and people. New organizations are created by the people who run this server.</p>
      )}
      <Card title={organizations.data ? counted(organizations.data.length, 'organization') : 'Organizations'}>
        <DataTable
          caption="Organizations"
          columns={columns}
          rows={organizations.data}
          rowKey={(org) => org.id}
          error={organizations.error}
          onRetry={() => void organizations.refetch()}
        />
      </Card>
    </>
  );
}
