import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { sessionRenewed, type Me } from '../lib/auth.ts';
import { label } from '../lib/format.ts';
import { Card, ErrorNote, PageHeader } from '../components/ui.tsx';
import { SessionsCard, TwoFactorCard } from './Security.tsx';

/** Passwords shorter than this are refused by the server too. */
const MIN_PASSWORD = 12;

function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation(trpc.users.changePassword.mutationOptions({
    onSuccess: () => {
      setCurrent('');
      setNext('');
      setRepeat('');
      // This tab got a new session cookie; every other session of this person ended.
      sessionRenewed();
    },
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const differs = next !== repeat;
    setMismatch(differs);
    change.reset();
    if (!differs) change.mutate({ currentPassword: current, newPassword: next });
  };
  return (
    <Card title="Change your password">
      <form className="stack narrow" onSubmit={submit}>
        <label>Current password<input type="password" required maxLength={1024} value={current} onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" /></label>
        <label>
          New password
          <input type="password" required minLength={MIN_PASSWORD} maxLength={1024} value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" aria-describedby="new-password-help" />
        </label>
        <p id="new-password-help" className="muted small">At least {MIN_PASSWORD} characters. A few words you remember make a good one.</p>
        <label>New password again<input type="password" required maxLength={1024} value={repeat} onChange={(e) => setRepeat(e.target.value)} autoComplete="new-password" /></label>
        <div><button type="submit" disabled={change.isPending}>{change.isPending ? 'Changing…' : 'Change password'}</button></div>
      </form>
      {mismatch ? <p className="error" role="alert">The two new passwords differ: type the same one twice.</p> : null}
      {change.error ? <ErrorNote error={change.error} /> : null}
      {change.isSuccess ? <p className="ok-text" role="status">Your password is changed. You stay logged in here; everywhere else you were logged in, you are now logged out.</p> : null}
    </Card>
  );
}

/** The signed-in person's own account: who they are, their password, second factor and sessions. */
export function AccountPage({ me }: { me: Me }) {
  return (
    <>
      <PageHeader title="My account" />
      {me.restricted ? (
        <p className="error" role="alert">Your organization requires two-factor sign-in. Set it up below to open the rest of the console.</p>
      ) : null}
      <Card title="You">
        <dl className="fields">
          <div><dt>Email</dt><dd>{me.email}</dd></div>
          <div><dt>Role</dt><dd>{label(me.role)}</dd></div>
          <div><dt>Organization</dt><dd>{me.organizationName ?? 'Your organization'}</dd></div>
        </dl>
      </Card>
      <TwoFactorCard />
      {me.restricted ? null : <ChangePassword />}
      <SessionsCard />
    </>
  );
}
