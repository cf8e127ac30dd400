import { useState, type FormEvent } from 'react';
import { api } from '../lib/trpc.ts';
import { errorMessage } from '../lib/query.ts';
import { Link } from '../lib/router.tsx';

/** Passwords shorter than this are refused by the server too. */
const MIN_PASSWORD = 12;

/**
 * Where an emailed reset link lands: `/reset-password#token=…`. The token rides in the fragment,
 * which browsers never send to a server, so it stays out of logs and Referer headers.
 */
export function ResetPasswordPage() {
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (next !== repeat) return setError('The two passwords differ');
    setBusy(true);
    try {
      await api().auth.resetPassword.mutate({ token, newPassword: next });
      // The link is spent: drop it from the address bar and history.
      window.history.replaceState(null, '', '/reset-password');
      setDone(true);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="card login-card">
        <div className="brand big">NinjaIT</div>
        <h1>Choose a new password</h1>
        {done ? (
          <div className="stack" role="status">
            <p>Your password is changed, and every session you had is signed out.</p>
            <Link to="/login">Log in with your new password</Link>
          </div>
        ) : !token ? (
          <p className="error" role="alert">This page needs the link from the reset email. Ask for a new one on the <Link to="/login">login page</Link>.</p>
        ) : (
          <form className="stack" onSubmit={(event) => void submit(event)}>
            <label>
              New password
              <input type="password" required minLength={MIN_PASSWORD} maxLength={1024} value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" autoFocus aria-describedby="reset-password-help" />
            </label>
            <p id="reset-password-help" className="muted small">At least {MIN_PASSWORD} characters.</p>
            <label>New password again<input type="password" required maxLength={1024} value={repeat} onChange={(e) => setRepeat(e.target.value)} autoComplete="new-password" /></label>
            {error ? <p className="error" role="alert">{error}</p> : null}
            <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Set new password'}</button>
          </form>
        )}
      </div>
    </main>
  );
}
