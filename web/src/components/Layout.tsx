import { useState, type ReactNode } from 'react';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { logOut, roleAtLeast, type Me } from '../lib/auth.ts';
import { label } from '../lib/format.ts';
import type { Role } from '@ninjait/shared';

interface NavItem {
  to: string;
  text: string;
  role: Role;
}

const NAV: NavItem[] = [
  { to: '/', text: 'Overview', role: 'viewer' },
  { to: '/devices', text: 'Devices', role: 'viewer' },
  { to: '/tickets', text: 'Tickets', role: 'viewer' },
  { to: '/analytics', text: 'Analytics', role: 'viewer' },
  { to: '/audit', text: 'Audit log', role: 'admin' },
  { to: '/tokens', text: 'Enrollment', role: 'admin' },
  { to: '/users', text: 'Users & roles', role: 'admin' },
];

type Organization = { id: string; name?: string };

/** Organizations this person can switch to; today a person belongs to one, which `auth.me` names. */
function organizationsOf(me: Me): Organization[] {
  const extra = me as Me & { organizations?: Organization[]; organizationName?: string };
  if (extra.organizations && extra.organizations.length > 0) return extra.organizations;
  return [{ id: me.organizationId, ...(extra.organizationName ? { name: extra.organizationName } : {}) }];
}

function OrgSwitcher({ me }: { me: Me }) {
  const organizations = organizationsOf(me);
  const name = (org: Organization) => org.name ?? `Organization ${org.id.slice(0, 8)}`;
  return (
    <label className="org-switcher">
      <span className="sr-only">Organization</span>
      <select
        value={me.organizationId}
        disabled={organizations.length < 2}
        title={organizations.length < 2 ? 'You belong to one organization' : 'Switch organization'}
        onChange={() => undefined}
        aria-label="Organization"
      >
        {organizations.map((org) => <option key={org.id} value={org.id}>{name(org)}</option>)}
      </select>
    </label>
  );
}

export function Layout({ me, children }: { me: Me; children: ReactNode }) {
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
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
          {NAV.filter((item) => roleAtLeast(me.role, item.role)).map((item) => (
            <li key={item.to}>
              <Link to={item.to} aria-current={active(item.to) ? 'page' : undefined} onClick={() => setMenuOpen(false)}>{item.text}</Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>{children}</main>
    </div>
  );
}
