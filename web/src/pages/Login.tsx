import { useState, type FormEvent } from 'react';
import { api } from '../lib/trpc.ts';
import { logIn } from '../lib/auth.ts';
import { errorMessage } from '../lib/query.ts';
import { useLocation } from '../lib/router.tsx';

/** The server's answer (shared/src/constants.ts) when the account needs its second-factor code; copied so the bundle does not carry zod. */
const SECOND_FACTOR_REQUIRED = 'Enter the 6-digit code from your authenticator app (or a recovery code)';

/**
 * Why the server sent someone back from their identity provider (server/src/features/auth/oidc.ts
 * SsoRefusalReason): the URL carries the reason, this page the words, so a link cannot make it say anything else.
 */
const SSO_REFUSALS: Record<string, string> = {
  unknown: 'No organization signs in with single sign-on for that email. Check the address, or log in with your password.',
  expired: 'That single sign-on attempt expired or was already used. Start again with "Sign in with SSO".',
  provider: 'Your identity provider could not be reached or did not confirm who you are. Try again, or ask your admin to check the single sign-on settings.',
  no_email: 'Your identity provider did not send a verified email address for you. Ask your admin to check the single sign-on settings.',
  wrong_domain: 'Your identity provider signed you in with an email outside your organization\'s domain.',
  no_role: 'You signed in at your identity provider, but none of your groups gives you a role in NinjaIT. Ask your admin to add you to the right group.',
  other_organization: 'Your email already belongs to another organization on this server. Ask your admin.',
  removed: 'Your account was removed from the organization. Ask an admin to add you again.',
  second_factor: 'Your account has two-factor sign-in: log in with your password and code.',
};

/** Sends the browser to the organization's identity provider, found from a work email or domain. */
function SsoForm({ email }: { email: string }) {
  const [entry, setEntry] = useState(email);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    window.location.assign(`/auth/oidc/${encodeURIComponent(entry.trim().toLowerCase())}/start`);
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="Sign in with SSO">
      <label>
        Work email or domain
        <input name="sso" required maxLength={255} value={entry} onChange={(e) => setEntry(e.target.value)} autoComplete="username" autoFocus />
      </label>
      <button type="submit">Continue to your identity provider</button>
    </form>
  );
}

/** Asks for a reset link; the answer is the same whether the email has an account or not. */
function ForgotPassword({ email }: { email: string }) {
  const [entry, setEntry] = useState(email);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await api().auth.requestPasswordReset.mutate({ email: entry.trim() });
      setSent(true);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };
  if (sent) return <p role="status">If an account uses {entry.trim()}, we have emailed it a link to choose a new password. The link works once, for 30 minutes.</p>;
  return (
    <form className="stack" onSubmit={(event) => void submit(event)} aria-label="Reset your password">
      <label>
        Your email
        <input type="email" name="reset-email" required maxLength={255} value={entry} onChange={(e) => setEntry(e.target.value)} autoFocus />
      </label>
      {error ? <p className="error" role="alert">{error}</p> : null}
      <button type="submit">Email me a reset link</button>
    </form>
  );
}

export function LoginPage() {
  const { search } = useLocation();
  const refusal = search.get('sso');
  const [other, setOther] = useState<'sso' | 'reset' | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Asked once the server says this account has a second factor.
  const [askCode, setAskCode] = useState(false);
  const [code, setCode] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await logIn(email.trim(), password, askCode ? code.trim() : undefined);
    } catch (caught) {
      const message = errorMessage(caught);
      if (message === SECOND_FACTOR_REQUIRED) setAskCode(true);
      else setError(message);
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="card login-card" onSubmit={(event) => void submit(event)} aria-labelledby="login-title">
        <div className="brand big">NinjaIT</div>
        <h1 id="login-title">Log in to the console</h1>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {askCode ? (
          <label>
            Authentication code
            <input name="code" inputMode="numeric" autoComplete="one-time-code" required maxLength={32} value={code} onChange={(e) => setCode(e.target.value)} autoFocus />
            <span className="muted small">The 6-digit code from your authenticator app, or one of your recovery codes.</span>
          </label>
        ) : null}
        {error ? <p className="error" role="alert">{error}</p> : null}
        {refusal && !error ? <p className="error" role="alert">{SSO_REFUSALS[refusal] ?? SSO_REFUSALS.provider}</p> : null}
        <button type="submit" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
        <div className="row wrap">
          <button type="button" className="secondary" onClick={() => setOther(other === 'sso' ? null : 'sso')} aria-expanded={other === 'sso'}>Sign in with SSO</button>
          <button type="button" className="secondary" onClick={() => setOther(other === 'reset' ? null : 'reset')} aria-expanded={other === 'reset'}>Forgot your password?</button>
        </div>
        <p className="muted small">
          First time here? When the server started for the first time, it printed the first owner's email and password.
          Everyone else gets theirs from an admin.
        </p>
      </form>
      {other ? (
        <div className="card login-card">
          {other === 'sso' ? <SsoForm email={email} /> : <ForgotPassword email={email} />}
        </div>
      ) : null}
    </main>
  );
}
