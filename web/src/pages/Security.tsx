import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { sessionRenewed } from '../lib/auth.ts';
import { queryClient } from '../lib/query.ts';
import type { Role } from '@ninjait/shared';
import type { Outputs } from '../lib/trpc.ts';
import { ROLES, roleAtLeast, type Me } from '../lib/auth.ts';
import { Card, CopyButton, ErrorNote, QueryView } from '../components/ui.tsx';

/** Turning TOTP on: scan (or type) the secret, confirm with a code, keep the recovery codes. */
export function TwoFactorCard() {
  const status = useQuery(trpc.twoFactor.status.queryOptions());
  const [code, setCode] = useState('');
  const begin = useMutation(trpc.twoFactor.begin.mutationOptions());
  const confirm = useMutation(trpc.twoFactor.confirm.mutationOptions({
    onSuccess: () => {
      setCode('');
      void queryClient.invalidateQueries(trpc.twoFactor.status.pathFilter());
      // A session held to setting up the factor was replaced by a full one (new cookie).
      sessionRenewed();
    },
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    confirm.mutate({ code: code.trim() });
  };
  return (
    <Card title="Two-factor sign-in">
      <QueryView query={status}>
        {(state) => (
          <div className="stack narrow">
            <p>
              {state.enabled
                ? `On. ${state.recoveryCodesLeft === 1 ? '1 recovery code' : `${state.recoveryCodesLeft} recovery codes`} left.`
                : 'Off: you sign in with your password only.'}
              {state.organizationRequires ? ' Your organization requires it.' : ''}
            </p>
            {!begin.data && !confirm.data ? (
              <div><button type="button" onClick={() => begin.mutate()} disabled={begin.isPending}>{state.enabled ? 'Move to a new authenticator app' : 'Set up an authenticator app'}</button></div>
            ) : null}
            {begin.data && !confirm.data ? (
              <form className="stack" onSubmit={submit}>
                <p>Add this account in your authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, …) with the link or the key, then type the code it shows.</p>
                <p><a href={begin.data.uri}>Open in authenticator app</a></p>
                <p>Key: <code data-testid="totp-secret">{begin.data.secret}</code> <CopyButton text={begin.data.secret} /></p>
                <label>Code from the app<input name="totp-code" inputMode="numeric" autoComplete="one-time-code" required maxLength={6} value={code} onChange={(e) => setCode(e.target.value)} /></label>
                <div><button type="submit" disabled={confirm.isPending}>Turn on</button></div>
              </form>
            ) : null}
            {confirm.data ? (
              <div role="status">
                <p className="ok-text">Two-factor sign-in is on. Keep these recovery codes somewhere safe: each signs you in once if you lose your phone. They are not shown again.</p>
                <pre data-testid="recovery-codes">{confirm.data.recoveryCodes.join('\n')}</pre>
                <CopyButton text={confirm.data.recoveryCodes.join('\n')} label="Copy codes" />
              </div>
            ) : null}
            {begin.error ? <ErrorNote error={begin.error} /> : null}
            {confirm.error ? <ErrorNote error={confirm.error} /> : null}
          </div>
        )}
      </QueryView>
    </Card>
  );
}

/** Where this person is signed in, with a way to end any of it. */
export function SessionsCard() {
  const sessions = useQuery(trpc.auth.sessions.queryOptions());
  const revoke = useMutation(trpc.auth.revokeSession.mutationOptions({
    onSuccess: () => void queryClient.invalidateQueries(trpc.auth.sessions.pathFilter()),
  }));
  return (
    <Card title="Where you are signed in">
      <QueryView query={sessions}>
        {(list) => (
          <table>
            <thead><tr><th>Signed in</th><th>From</th><th /></tr></thead>
            <tbody>
              {list.map((session) => (
                <tr key={session.id}>
                  <td>{session.createdAt ? new Date(session.createdAt).toLocaleString() : 'unknown'}</td>
                  <td>{session.ip ?? 'unknown'}</td>
                  <td>{session.current ? 'This browser' : <button type="button" className="secondary" onClick={() => revoke.mutate({ session: session.id })} disabled={revoke.isPending}>Sign out</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
      {revoke.error ? <ErrorNote error={revoke.error} /> : null}
    </Card>
  );
}

type SsoAnswer = Outputs['sso']['settings'];
interface RuleRow { value: string; role: Role }

/** One provider per organization: where people sign in, and which of their groups gives which role. */
function SsoForm({ answer, me }: { answer: SsoAnswer; me: Me }) {
  const saved = answer.settings;
  const [issuer, setIssuer] = useState(saved?.issuer ?? '');
  const [clientId, setClientId] = useState(saved?.clientId ?? '');
  const [clientSecret, setClientSecret] = useState('');
  const [emailDomain, setEmailDomain] = useState(saved?.emailDomain ?? '');
  const [roleClaim, setRoleClaim] = useState(saved?.roleClaim ?? 'groups');
  const [rules, setRules] = useState<RuleRow[]>(saved?.roleRules.length ? saved.roleRules : [{ value: '', role: 'technician' }]);
  const [ssoOnly, setSsoOnly] = useState(saved?.ssoOnly ?? false);
  const [countsAsTwoFactor, setCountsAsTwoFactor] = useState(saved?.countsAsTwoFactor ?? false);
  const refresh = () => void queryClient.invalidateQueries(trpc.sso.settings.pathFilter());
  const save = useMutation(trpc.sso.save.mutationOptions({ onSuccess: () => { setClientSecret(''); refresh(); } }));
  const remove = useMutation(trpc.sso.remove.mutationOptions({ onSuccess: refresh }));
  const grantable = ROLES.filter((role) => roleAtLeast(me.role, role));
  const redirectUri = answer.redirectUri ?? `${window.location.origin}${answer.callbackPath}`;
  const setRule = (index: number, change: Partial<RuleRow>) => setRules(rules.map((rule, at) => (at === index ? { ...rule, ...change } : rule)));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      issuer: issuer.trim(), clientId: clientId.trim(), ...(clientSecret ? { clientSecret } : {}),
      emailDomain: emailDomain.trim() ? emailDomain.trim().toLowerCase() : null, roleClaim: roleClaim.trim(),
      roleRules: rules.filter((rule) => rule.value.trim()).map((rule) => ({ value: rule.value.trim(), role: rule.role })),
      ssoOnly, countsAsTwoFactor,
    });
  };
  return (
    <form className="stack narrow" onSubmit={submit} aria-label="Single sign-on settings">
      <p>
        {saved ? `On: people sign in through ${saved.issuer}${saved.ssoOnly ? ' only' : ' or with their password'}.` : 'Off: people sign in with their password.'}
      </p>
      <p className="muted small">
        Register NinjaIT at your identity provider as a web application with the redirect URI <code>{redirectUri}</code> <CopyButton text={redirectUri} />{' '}
        and the scopes <code>{answer.scopes}</code>.
      </p>
      <label>Issuer URL<input type="url" required maxLength={500} value={issuer} onChange={(e) => setIssuer(e.target.value)} placeholder="https://login.microsoftonline.com/<tenant id>/v2.0" /></label>
      <label>Client ID<input required maxLength={255} value={clientId} onChange={(e) => setClientId(e.target.value)} autoComplete="off" /></label>
      <label>
        Client secret
        <input type="password" required={!saved} maxLength={1024} value={clientSecret} onChange={(e) => setClientSecret(e.target.value)} autoComplete="new-password" placeholder={saved ? 'Kept: type a new one to replace it' : ''} />
      </label>
      <label>
        Work email domain
        <input maxLength={253} value={emailDomain} onChange={(e) => setEmailDomain(e.target.value)} placeholder="example.com" autoComplete="off" />
        <span className="muted small">People type their work email on the login page to reach your provider. Only emails of this domain are let in.</span>
      </label>
      <label>Claim with the groups or roles<input required maxLength={100} value={roleClaim} onChange={(e) => setRoleClaim(e.target.value)} autoComplete="off" /></label>
      <fieldset className="stack">
        <legend>Who gets which role</legend>
        <p className="muted small">People whose claim holds none of these values are refused. Someone who signs in for the first time is added with the role their groups give.</p>
        {rules.map((rule, index) => (
          <div className="row wrap align-end" key={index}>
            <label>Claim value<input maxLength={255} value={rule.value} onChange={(e) => setRule(index, { value: e.target.value })} placeholder="it-admins" autoComplete="off" /></label>
            <label>
              Role
              <select value={rule.role} onChange={(e) => setRule(index, { role: e.target.value as Role })}>
                {grantable.map((role) => <option key={role} value={role}>{role}</option>)}
              </select>
            </label>
            {rules.length > 1 ? <button type="button" className="secondary" onClick={() => setRules(rules.filter((_rule, at) => at !== index))}>Remove rule</button> : null}
          </div>
        ))}
        {rules.length < 20 ? <div><button type="button" className="secondary" onClick={() => setRules([...rules, { value: '', role: 'viewer' }])}>Add a rule</button></div> : null}
      </fieldset>
      <label className="inline">
        <input type="checkbox" checked={countsAsTwoFactor} onChange={(e) => setCountsAsTwoFactor(e.target.checked)} />
        The provider asks for a second factor: signing in through it counts as two-factor sign-in
      </label>
      <label className="inline">
        <input type="checkbox" checked={ssoOnly} onChange={(e) => setSsoOnly(e.target.checked)} />
        Single sign-on only: refuse password logins (the server&apos;s local <code>ninjait</code> command still works)
      </label>
      <div className="row">
        <button type="submit" disabled={save.isPending}>Save single sign-on</button>
        {saved ? <button type="button" className="secondary" onClick={() => remove.mutate()} disabled={remove.isPending}>Turn off single sign-on</button> : null}
      </div>
      {save.isSuccess ? <p className="ok-text" role="status">Saved.</p> : null}
      {save.error ? <ErrorNote error={save.error} /> : null}
      {remove.error ? <ErrorNote error={remove.error} /> : null}
    </form>
  );
}

/** The organization's single sign-on (OpenID Connect), for its admins. */
export function SsoCard({ me }: { me: Me }) {
  const settings = useQuery(trpc.sso.settings.queryOptions());
  return (
    <Card title="Single sign-on">
      <QueryView query={settings}>
        {(answer) => <SsoForm key={answer.settings?.updatedAt ? String(answer.settings.updatedAt) : 'new'} answer={answer} me={me} />}
      </QueryView>
    </Card>
  );
}
