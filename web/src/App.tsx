import { Suspense, lazy, useEffect, type ReactNode } from 'react';
import { roleAtLeast, useMe, type Me } from './lib/auth.ts';
import { matchPath, navigate, useLocation } from './lib/router.tsx';
import { Layout } from './components/Layout.tsx';
import { ErrorNote, Spinner } from './components/ui.tsx';
import { LoginPage } from './pages/Login.tsx';
import { ResetPasswordPage } from './pages/ResetPassword.tsx';
import { OverviewPage } from './pages/Overview.tsx';
import { DevicesPage } from './pages/Devices.tsx';
import { TokensPage } from './pages/Tokens.tsx';
import { UsersPage } from './pages/Users.tsx';
import { TicketsPage } from './pages/Tickets.tsx';
import { PatchesPage } from './pages/Patches.tsx';
import { TicketPage } from './pages/Ticket.tsx';
import { AnalyticsPage } from './pages/Analytics.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { QuarantinePage } from './pages/Quarantine.tsx';
import { AccountPage } from './pages/Account.tsx';
import { OrganizationsPage } from './pages/Organizations.tsx';
import { SystemPage } from './pages/System.tsx';
import { AlertsPage } from './pages/Alerts.tsx';
import { AlertSettingsPage } from './pages/AlertSettings.tsx';
import { ClientsPage } from './pages/Clients.tsx';
import { FleetPage } from './pages/Fleet.tsx';
import { FleetStructurePage } from './pages/FleetStructure.tsx';
import { WebhooksPage } from './pages/Webhooks.tsx';
import { ScriptsPage } from './pages/Scripts.tsx';
import { ApiKeysPage } from './pages/ApiKeys.tsx';
import { AssetsPage } from './pages/Assets.tsx';
import { ContractPage } from './pages/Contract.tsx';
import { SettingsPage } from './pages/Settings.tsx';
import type { Role } from '@ninjait/shared';

// The device page carries the charting library: loaded when first opened.
const DevicePage = lazy(() => import('./pages/Device.tsx').then((module) => ({ default: module.DevicePage })));

interface Route {
  pattern: string;
  role: Role;
  title: string;
  render: (params: Record<string, string>, me: Me) => ReactNode;
}

/** Where emailed reset links point (server/src/features/auth/password-reset.ts RESET_PAGE). */
const RESET_PAGE = '/reset-password';

const ROUTES: Route[] = [
  { pattern: '/', role: 'viewer', title: 'Overview', render: () => <OverviewPage /> },
  { pattern: '/devices', role: 'viewer', title: 'Devices', render: () => <DevicesPage /> },
  { pattern: '/devices/:id', role: 'viewer', title: 'Device', render: (p, me) => <DevicePage id={p.id!} me={me} /> },
  { pattern: '/structure', role: 'technician', title: 'Fleet structure', render: () => <FleetStructurePage /> },
  { pattern: '/alerts', role: 'viewer', title: 'Alerts', render: () => <AlertsPage /> },
  { pattern: '/alerts/settings', role: 'admin', title: 'Alert rules and channels', render: () => <AlertSettingsPage /> },
  { pattern: '/tickets', role: 'viewer', title: 'Tickets', render: () => <TicketsPage /> },
  { pattern: '/tickets/:id', role: 'viewer', title: 'Ticket', render: (p, me) => <TicketPage id={p.id!} me={me} /> },
  { pattern: '/patches', role: 'viewer', title: 'Patches', render: (_p, me) => <PatchesPage me={me} /> },
  { pattern: '/reports', role: 'viewer', title: 'Reports', render: () => <AnalyticsPage /> },
  // The page's old address, for bookmarks.
  { pattern: '/analytics', role: 'viewer', title: 'Reports', render: () => <AnalyticsPage /> },
  { pattern: '/audit', role: 'admin', title: 'Audit log', render: () => <AuditPage /> },
  { pattern: '/quarantine', role: 'admin', title: 'Data we could not store', render: () => <QuarantinePage /> },
  { pattern: '/tokens', role: 'admin', title: 'Enrollment', render: () => <TokensPage /> },
  { pattern: '/users', role: 'admin', title: 'Users & roles', render: (_p, me) => <UsersPage me={me} /> },
  { pattern: '/organizations', role: 'owner', title: 'Organizations', render: (_p, me) => <OrganizationsPage me={me} /> },
  { pattern: '/clients', role: 'admin', title: 'Clients', render: () => <ClientsPage /> },
  { pattern: '/fleet', role: 'viewer', title: 'Client fleet', render: () => <FleetPage /> },
  { pattern: '/system', role: 'admin', title: 'System', render: (_p, me) => <SystemPage me={me} /> },
  { pattern: '/assets', role: 'technician', title: 'Assets', render: (_p, me) => <AssetsPage me={me} /> },
  { pattern: '/contract', role: 'admin', title: 'Contract', render: () => <ContractPage /> },
  { pattern: '/settings', role: 'viewer', title: 'Organization settings', render: (_p, me) => <SettingsPage canEdit={roleAtLeast(me.role, 'admin')} /> },
  { pattern: '/account', role: 'viewer', title: 'My account', render: (_p, me) => <AccountPage me={me} /> },
  { pattern: '/webhooks', role: 'technician', title: 'Webhooks', render: (_p, me) => <WebhooksPage me={me} /> },
  { pattern: '/scripts', role: 'technician', title: 'Scripts', render: (_p, me) => <ScriptsPage me={me} /> },
  { pattern: '/api-keys', role: 'viewer', title: 'API keys', render: () => <ApiKeysPage /> },
];

function resolve(path: string): { route: Route; params: Record<string, string> } | null {
  for (const route of ROUTES) {
    const params = matchPath(route.pattern, path);
    if (params) return { route, params };
  }
  return null;
}

export function App() {
  const me = useMe();
  const { path, search } = useLocation();
  // The server's answer decides: a person, null (nobody: the login page), or not known yet.
  const signedIn = Boolean(me.data);
  const signedOut = me.data === null;

  // An emailed reset link opens its page signed in or not (see pages/ResetPassword.tsx).
  const resetting = path === RESET_PAGE;
  useEffect(() => {
    if (resetting) return;
    if (signedOut && path !== '/login') navigate(`/login${path !== '/' ? `?next=${encodeURIComponent(path)}` : ''}`, { replace: true });
    if (signedIn && path === '/login') navigate(safeNext(search.get('next')), { replace: true });
    // A session held to setting up the second factor its organization requires opens only My account.
    if (me.data?.restricted && path !== '/account') navigate('/account', { replace: true });
  }, [signedIn, signedOut, path, search, me.data?.restricted, resetting]);

  const match = resolve(path);
  useEffect(() => {
    document.title = `${path === '/login' ? 'Log in' : resetting ? 'Reset your password' : (match?.route.title ?? 'Not found')} · NinjaIT`;
  }, [path, match, resetting]);

  if (resetting) return <ResetPasswordPage />;
  if (!me.data) {
    if (signedOut) return <LoginPage />;
    if (me.error) return <main className="center"><ErrorNote error={me.error} onRetry={() => void me.refetch()} /></main>;
    return <main className="center"><Spinner /></main>;
  }
  if (path === '/login') return <main className="center"><Spinner /></main>;

  let page: ReactNode;
  if (!match) page = <div className="empty"><h1>Page not found</h1><p className="muted">There is nothing at {path}.</p></div>;
  else if (!roleAtLeast(me.data.role, match.route.role)) {
    page = <div className="empty"><h1>Not allowed</h1><p className="muted">This page is for people with the {match.route.role} role or higher.</p></div>;
  } else page = match.route.render(match.params, me.data);
  return <Layout me={me.data}><Suspense fallback={<Spinner />}>{page}</Suspense></Layout>;
}

/** Only a path of this console: `?next=https://elsewhere` must not send a person off-site after logging in. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}
