import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Role } from '@ninjait/shared';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { ROLES, roleAtLeast, type Me } from '../lib/auth.ts';
import { counted, dateTime, label } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, CopyButton, ErrorNote, PageHeader, QueryView } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { SsoCard } from './Security.tsx';

type Person = Outputs['users']['list'][number];

const ROLE_HELP: Record<Role, string> = {
  viewer: 'sees devices, tickets and reports',
  technician: 'also runs commands and shells, works tickets',
  admin: 'also manages people and enrollment tokens',
  owner: 'everything, including other admins and owners',
};

/** A password the server made, shown once with a way to copy it. */
function OneTimePassword({ email, password, onDone }: { email: string; password: string; onDone: () => void }) {
  return (
    <div className="card highlight" role="status" aria-label="New password">
      <p>
        The password for <strong>{email}</strong> is <code data-testid="one-time-password">{password}</code>{' '}
        <CopyButton text={password} label="Copy password" />
      </p>
      <p className="muted small">It is shown only now. Give it to them; they can change it on their My account page.</p>
      <button type="button" className="secondary small" onClick={onDone}>Done</button>
    </div>
  );
}

function AddPerson({ me, onPassword }: { me: Me; onPassword: (shown: { email: string; password: string }) => void }) {
  const queryClient = useQueryClient();
  const grantable = ROLES.filter((role) => roleAtLeast(me.role, role));
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [choosePassword, setChoosePassword] = useState(false);
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('technician');
  const [done, setDone] = useState<string | null>(null);

  const create = useMutation(trpc.users.create.mutationOptions({
    onSuccess: (user) => {
      setDone(`${user.email} can now log in as ${label(user.role).toLowerCase()}.`);
      if (user.initialPassword) onPassword({ email: user.email, password: user.initialPassword });
      setEmail('');
      setName('');
      setPassword('');
      void queryClient.invalidateQueries(trpc.users.pathFilter());
    },
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    create.mutate({ email: email.trim(), role, ...(name.trim() ? { name: name.trim() } : {}), ...(choosePassword ? { password } : {}) });
  };

  return (
    <Card title="Add a person">
      <form className="stack" onSubmit={submit}>
        <div className="row wrap align-end">
          <label>Email<input type="email" required maxLength={255} value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" /></label>
          <label>Name<input maxLength={255} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" /></label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.target.value as Role)} aria-describedby="role-help">
              {grantable.map((r) => <option key={r} value={r}>{label(r)}</option>)}
            </select>
          </label>
        </div>
        <p id="role-help" className="muted small">{label(role)}: {ROLE_HELP[role]}.</p>
        <div className="row wrap align-end">
          <label>
            First password
            <select value={choosePassword ? 'set' : 'made'} onChange={(e) => setChoosePassword(e.target.value === 'set')}>
              <option value="made">Made by the server, shown once</option>
              <option value="set">Set by me</option>
            </select>
          </label>
          {choosePassword ? (
            <label>
              Password
              <input type="password" required minLength={12} maxLength={1024} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" aria-describedby="first-password-help" />
            </label>
          ) : null}
        </div>
        {choosePassword ? <p id="first-password-help" className="muted small">At least 12 characters.</p> : null}
        <div><button type="submit" disabled={create.isPending}>{create.isPending ? 'Adding…' : 'Add person'}</button></div>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
      {done ? <p className="ok-text" role="status">{done}</p> : null}
    </Card>
  );
}

/**
 * The people table: role, reset and remove on each row, where the rules allow them (the server
 * checks again). One mutation of each kind for the table; a row is busy while one runs for it.
 */
function PeopleTable({ me, rows, onPassword, onError }: {
  me: Me; rows: Person[]; onPassword: (shown: { email: string; password: string }) => void; onError: (error: unknown) => void;
}) {
  const queryClient = useQueryClient();
  const grantable = ROLES.filter((role) => roleAtLeast(me.role, role));
  // Every people query (the list, the names tickets show): a role or a removal changes them all.
  const refresh = () => void queryClient.invalidateQueries(trpc.users.pathFilter());
  const options = { onSuccess: refresh, onError };
  const setRole = useMutation(trpc.users.setRole.mutationOptions(options));
  const remove = useMutation(trpc.users.remove.mutationOptions(options));
  const reset = useMutation(trpc.users.resetPassword.mutationOptions({
    onSuccess: ({ password }, { userId }) => {
      const person = rows.find((row) => row.id === userId);
      if (password && person) onPassword({ email: person.email, password });
    },
    onError,
  }));
  const busy = (person: Person) => [setRole, remove, reset].some((mutation) => mutation.isPending && mutation.variables?.userId === person.id);
  const who = (person: Person) => person.name ?? person.email;
  const canChange = (person: Person) => person.id !== me.userId && roleAtLeast(me.role, person.role);

  const columns: Column<Person>[] = [
    {
      key: 'person', header: 'Person', sortValue: who,
      cell: (person) => (
        <>
          {person.name ? <>{person.name}<br /><span className="muted small">{person.email}</span></> : person.email}
          {person.id === me.userId ? <span className="muted"> (you)</span> : null}
        </>
      ),
    },
    {
      key: 'role', header: 'Role', sortValue: (person) => ROLES.indexOf(person.role),
      cell: (person) => (canChange(person) ? (
        <select aria-label={`Role of ${who(person)}`} value={person.role} disabled={busy(person)} title={ROLE_HELP[person.role]}
          onChange={(e) => {
            const role = e.target.value as Role;
            if (confirm(`Make ${who(person)} ${label(role).toLowerCase()}? They are logged out so the new role applies at once.`)) setRole.mutate({ userId: person.id, role });
          }}>
          {grantable.map((r) => <option key={r} value={r}>{label(r)}</option>)}
        </select>
      ) : <span className="badge badge-muted" title={ROLE_HELP[person.role]}>{label(person.role)}</span>),
    },
    { key: 'since', header: 'Since', cell: (person) => dateTime(person.createdAt), sortValue: (person) => new Date(person.createdAt).getTime() },
    {
      key: 'actions', header: 'Actions',
      cell: (person) => (person.id === me.userId ? <Link to="/account" className="small">Change your password</Link> : canChange(person) ? (
        <div className="row wrap">
          <button type="button" className="secondary small" disabled={busy(person)} aria-label={`Reset the password of ${who(person)}`}
            onClick={() => {
              if (confirm(`Give ${who(person)} a new password? Their current one stops working and they are logged out everywhere.`)) reset.mutate({ userId: person.id });
            }}>Reset password</button>
          <button type="button" className="secondary small" disabled={busy(person)} aria-label={`Remove ${who(person)}`}
            onClick={() => {
              if (confirm(`Remove ${who(person)} from this organization? They are logged out and cannot log in again. What they did stays in the history.`)) remove.mutate({ userId: person.id });
            }}>Remove</button>
        </div>
      ) : <span className="muted small">Above your role</span>),
    },
  ];
  return <DataTable caption="People" columns={columns} rows={rows} rowKey={(person) => person.id} empty="Nobody yet" />;
}

/** The organization's people: add, change roles, reset passwords, remove. */
export function UsersPage({ me }: { me: Me }) {
  const people = useQuery(trpc.users.list.queryOptions());
  const [shown, setShown] = useState<{ email: string; password: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const showPassword = (next: { email: string; password: string }) => {
    setError(null);
    setShown(next);
  };

  return (
    <>
      <PageHeader title="Users & roles" />
      {shown ? <OneTimePassword email={shown.email} password={shown.password} onDone={() => setShown(null)} /> : null}
      <AddPerson me={me} onPassword={showPassword} />
      <Card title={people.data ? `People in ${me.organizationName ?? 'this organization'} (${counted(people.data.length, 'person', 'people')})` : 'People'}>
        {error ? <ErrorNote error={error} /> : null}
        <QueryView query={people}>
          {(rows) => <PeopleTable me={me} rows={rows} onPassword={showPassword} onError={setError} />}
        </QueryView>
        <p className="muted small">
          Nobody can give a role above their own, and an organization always keeps at least one owner.
          A role change or a removal logs that person out at once.
        </p>
      </Card>
      <SsoCard me={me} />
    </>
  );
}
