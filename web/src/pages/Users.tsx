import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Role } from '@ninjait/shared';
import { api } from '../lib/trpc.ts';
import { ROLES, roleAtLeast, type Me } from '../lib/auth.ts';
import { dateTime, label } from '../lib/format.ts';
import { Card, Empty, ErrorNote, PageHeader, QueryView } from '../components/ui.tsx';

const ROLE_HELP: Record<Role, string> = {
  viewer: 'sees devices, tickets and reports',
  technician: 'also runs commands and shells, works tickets',
  admin: 'also manages users and enrollment tokens',
  owner: 'everything, including other admins',
};

export function UsersPage({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ['users.list'], queryFn: () => api().users.list.query() });
  const grantable = ROLES.filter((role) => roleAtLeast(me.role, role));
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('technician');
  const [done, setDone] = useState<string | null>(null);

  const create = useMutation({
    mutationFn: () => api().users.create.mutate({ email: email.trim(), password, role, ...(name.trim() ? { name: name.trim() } : {}) }),
    onSuccess: (user) => {
      setDone(`${user.email} can now log in as ${label(user.role).toLowerCase()}.`);
      setEmail('');
      setName('');
      setPassword('');
      void queryClient.invalidateQueries({ queryKey: ['users.list'] });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    create.mutate();
  };

  return (
    <>
      <PageHeader title="Users & roles" />
      <Card title="Add a person">
        <form className="row wrap align-end" onSubmit={submit}>
          <label>Email<input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" /></label>
          <label>Name<input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" /></label>
          <label>
            Password
            <input type="password" required minLength={12} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" aria-describedby="pw-help" />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {grantable.map((r) => <option key={r} value={r}>{label(r)}</option>)}
            </select>
          </label>
          <button type="submit" disabled={create.isPending}>{create.isPending ? 'Adding…' : 'Add user'}</button>
        </form>
        <p id="pw-help" className="muted small">At least 12 characters. {label(role)}: {ROLE_HELP[role]}.</p>
        {create.error ? <ErrorNote error={create.error} /> : null}
        {done ? <p className="ok-text" role="status">{done}</p> : null}
      </Card>
      <Card title="People in this organization">
        <QueryView query={users} empty={(rows) => (rows.length === 0 ? <Empty title="No users" /> : null)}>
          {(rows) => (
            <div className="table-wrap">
              <table className="table">
                <caption className="sr-only">Users</caption>
                <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Since</th></tr></thead>
                <tbody>
                  {rows.map((user) => (
                    <tr key={user.id}>
                      <td>{user.email}{user.email === me.email ? <span className="muted"> (you)</span> : null}</td>
                      <td>{user.name ?? '—'}</td>
                      <td><span className="badge badge-muted" title={ROLE_HELP[user.role]}>{label(user.role)}</span></td>
                      <td>{dateTime(user.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
        <p className="muted small">Changing a role or removing a person needs a users.update procedure, which the API does not have yet.</p>
      </Card>
    </>
  );
}
