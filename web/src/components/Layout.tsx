import { useEffect, useState, type ReactNode } from 'react';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { useQuery } from '@tanstack/react-query';
import { logOut, roleAtLeast, switchOrganization, type Me } from '../lib/auth.ts';
import { trpc } from '../lib/trpc-query.ts';
import { label } from '../lib/format.ts';
import type { Role } from '@ninjait/shared';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { PageErrorBoundary } from './PageErrorBoundary.tsx';

/**
 * Parts of the console loaded on first use, fetched while the server answers: opening a device
 * after the server went away then shows the page with its banner, not a failed download.
 */
const preloadLazyPages = () => import('../pages/Device.tsx');

interface NavItem {
  to: string;
  text: string;
  role: Role;
}

const NAV: NavItem[] = [
  { to: '/', text: 'Overview', role: 'viewer' },
  { to: '/devices', text: 'Devices', role: 'viewer' },
  { to: '/structure', text: 'Fleet structure', role: 'technician' },
  { to: '/alerts', text: 'Alerts', role: 'viewer' },
  { to: '/tickets', text: 'Tickets', role: 'viewer' },
  { to: '/patches', text: 'Patches', role: 'viewer' },
  { to: '/scripts', text: 'Scripts', role: 'technician' },
  { to: '/reports', text: 'Reports', role: 'viewer' },
  { to: '/assets', text: 'Assets', role: 'technician' },
  { to: '/audit', text: 'Audit log', role: 'admin' },
  { to: '/quarantine', text: 'Data not stored', role: 'admin' },
  { to: '/tokens', text: 'Enrollment', role: 'admin' },
  { to: '/users', text: 'Users & roles', role: 'admin' },
  { to: '/organizations', text: 'Organizations', role: 'owner' },
  { to: '/webhooks', text: 'Webhooks', role: 'technician' },
  { to: '/settings', text: 'Settings', role: 'viewer' },
  { to: '/contract', text: 'Contract', role: 'admin' },
  { to: '/system', text: 'System', role: 'admin' },
  { to: '/account', text: 'My account', role: 'viewer' },
  { to: '/api-keys', text: 'API keys', role: 'viewer' },
];

/**
 * The organizations this person works in (their own, and a provider's clients), shown when there
 * is more than one. Switching moves the session: every page then shows the chosen organization.
 */
function OrgSwitcher({ me }: { me: Me }) {
  const organizations = useQuery(trpc.auth.organizations.queryOptions(undefined, { staleTime: 60_000 }));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const entries = organizations.data ?? [];
  // One organization: the same labelled control, disabled, so the header reads the same either way.
  if (entries.length < 2) {
    return (
      <label className="org-switcher">
        <span className="sr-only">Organization</span>
        <select value={me.organizationId} disabled title="You belong to one organization" aria-label="Organization" onChange={() => undefined}>
          <option value={me.organizationId}>{me.organizationName}</option>
        </select>
      </label>
    );
  }
  const choose = async (organizationId: string) => {
    setBusy(true);
    setError(null);
    try {
      await switchOrganization(organizationId);
      navigate('/');
    } catch (cause) {
      setError(cause instanceof Error ? cause.message : 'Could not switch organization');
    } finally {
      setBusy(false);
    }
  };
  return (
    <label className="org-switcher">
      <span className="sr-only">Organization</span>
      <select value={me.organizationId} disabled={busy} title="Switch organization" aria-label="Organization" onChange={(event) => void choose(event.target.value)}>
        {entries.map((org) => (
          <option key={org.organizationId} value={org.organizationId} disabled={org.needsSecondFactor}>
            {org.name}{org.via === 'provider' ? ' (client)' : ''}{org.needsSecondFactor ? ' (needs two-factor sign-in)' : ''}
          </option>
        ))}
      </select>
      {error ? <span className="error small" role="alert">{error}</span> : null}
    </label>
  );
}

/** Pages for provider staff: shown when the current organization is a provider, or there are clients to see. */
function useProviderNav(me: Me): NavItem[] {
  const organizations = useQuery(trpc.auth.organizations.queryOptions(undefined, { staleTime: 60_000 }));
  const entries = organizations.data ?? [];
  const current = entries.find((org) => org.current);
  return [
    ...(current?.provider ? [{ to: '/clients', text: 'Clients', role: 'admin' as Role }] : []),
    ...(entries.length > 1 ? [{ to: '/fleet', text: 'Client fleet', role: 'viewer' as Role }] : []),
  ].filter((item) => roleAtLeast(me.role, item.role));
}

export function Layout({ me, children }: { me: Me; children: ReactNode }) {
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const providerNav = useProviderNav(me);
  useEffect(() => {
    void preloadLazyPages().catch(() => undefined);
  }, []);
  const active = (to: string) => (to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`));
  const signOut = async () => {
    await logOut().catch(() => undefined);
    navigate('/login', { replace: true });
  };
  return (
    <div className="app">
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <button type="button" className="menu-toggle secondary small" aria-expanded={menuOpen} aria-controls="sidenav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <Link to="/" className="brand">NinjaIT</Link>
        <OrgSwitcher me={me} />
        <div className="spacer" />
        <span className="whoami" title={me.email}>
          {me.email} <span className="badge badge-muted">{label(me.role)}</span>
        </span>
        <button type="button" className="secondary small" onClick={() => void signOut()}>Log out</button>
      </header>
      <nav id="sidenav" className={`sidenav ${menuOpen ? 'open' : ''}`} aria-label="Main">
        <ul>
          {[...NAV.filter((item) => roleAtLeast(me.role, item.role)), ...providerNav].map((item) => (
            <li key={item.to}>
              <Link to={item.to} aria-current={active(item.to) ? 'page' : undefined} onClick={() => setMenuOpen(false)}>{item.text}</Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <ConnectionBanner />
        <PageErrorBoundary key={path}>{children}</PageErrorBoundary>
      </main>
    </div>
  );
}
