import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { counted, dateTime, toDate } from '../lib/format.ts';
import type { Outputs } from '../lib/trpc.ts';
import { Card, ErrorNote, PageHeader } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { ClientGrants } from './ClientGrants.tsx';

type Client = Outputs['providers']['clients'][number];

/** A new client organization: the provider's staff can switch to it at once and add its people there. */
function AddClient() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation(trpc.providers.createClient.mutationOptions({
    onSuccess: () => {
      setName('');
      void queryClient.invalidateQueries(trpc.providers.pathFilter());
      void queryClient.invalidateQueries(trpc.auth.organizations.queryFilter());
    },
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim() });
  };
  return (
    <Card title="Add a client">
      <form className="row wrap align-end" onSubmit={submit}>
        <label>Client name<input required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" /></label>
        <button type="submit" disabled={create.isPending}>{create.isPending ? 'Adding…' : 'Add client'}</button>
      </form>
      <p className="muted small">
        Your technicians can work in it straight away with the role they have here (owners as admins). Switch to it in the header
        to enroll its devices and add its own people.
      </p>
      {create.error ? <ErrorNote error={create.error} /> : null}
      {create.data ? <p role="status">Added <strong>{create.data.name}</strong>.</p> : null}
    </Card>
  );
}

/** The clients this provider manages, for its admins. */
export function ClientsPage() {
  const clients = useQuery(trpc.providers.clients.queryOptions());
  const columns: Column<Client>[] = [
    { key: 'name', header: 'Client', cell: (client) => client.name, sortValue: (client) => client.name },
    { key: 'devices', header: 'Devices', cell: (client) => counted(client.devices, 'device'), sortValue: (client) => client.devices },
    { key: 'people', header: 'Own people', cell: (client) => counted(client.people, 'person', 'people'), sortValue: (client) => client.people },
    { key: 'created', header: 'Added', cell: (client) => dateTime(client.createdAt), sortValue: (client) => toDate(client.createdAt)?.getTime() },
  ];
  return (
    <>
      <PageHeader title="Clients" />
      <AddClient />
      <Card title={clients.data ? counted(clients.data.length, 'client') : 'Clients'}>
        <DataTable
          caption="Clients"
          columns={columns}
          rows={clients.data}
          rowKey={(client) => client.id}
          empty={<p className="muted">No clients yet: add the first one above.</p>}
          error={clients.error}
          onRetry={() => void clients.refetch()}
        />
      </Card>
      <ClientGrants clients={clients.data ?? []} />
    </>
  );
}
