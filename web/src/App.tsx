import { Suspense, lazy, useEffect, type ReactNode } from 'react';
import { forgetSession, roleAtLeast, useMe, useSessionToken, type Me } from './lib/auth.ts';
import { isUnauthorized } from './lib/query.ts';
import { matchPath, navigate, useLocation } from './lib/router.tsx';
import { Layout } from './components/Layout.tsx';
import { ErrorNote, Spinner } from './components/ui.tsx';
import { LoginPage } from './pages/Login.tsx';
import { OverviewPage } from './pages/Overview.tsx';
import { DevicesPage } from './pages/Devices.tsx';
import { TokensPage } from './pages/Tokens.tsx';
import { UsersPage } from './pages/Users.tsx';
import { TicketsPage } from './pages/Tickets.tsx';
import { TicketPage } from './pages/Ticket.tsx';
import { AnalyticsPage } from './pages/Analytics.tsx';
import { AuditPage } from './pages/Audit.tsx';
import type { Role } from '@ninjait/shared';

// The device page carries the charting library: loaded when first opened.
const DevicePage = lazy(() => import('./pages/Device.tsx').then((module) => ({ default: module.DevicePage })));

interface Route {
  pattern: string;
  role: Role;
  title: string;
  render: (params: Record<string, string>, me: Me) => ReactNode;
}

const ROUTES: Route[] = [
  { pattern: '/', role: 'viewer', title: 'Overview', render: () => <OverviewPage /> },
  { pattern: '/devices', role: 'viewer', title: 'Devices', render: () => <DevicesPage /> },
  { pattern: '/devices/:id', role: 'viewer', title: 'Device', render: (p, me) => <DevicePage id={p.id!} me={me} /> },
  { pattern: '/tickets', role: 'viewer', title: 'Tickets', render: () => <TicketsPage /> },
  { pattern: '/tickets/:id', role: 'viewer', title: 'Ticket', render: (p, me) => <TicketPage id={p.id!} me={me} /> },
  { pattern: '/analytics', role: 'viewer', title: 'Analytics', render: () => <AnalyticsPage /> },
  { pattern: '/audit', role: 'admin', title: 'Audit log', render: () => <AuditPage /> },
  { pattern: '/tokens', role: 'admin', title: 'Enrollment', render: () => <TokensPage /> },
  { pattern: '/users', role: 'admin', title: 'Users & roles', render: (_p, me) => <UsersPage me={me} /> },
];

function resolve(path: string): { route: Route; params: Record<string, string> } | null {
  for (const route of ROUTES) {
    const params = matchPath(route.pattern, path);
    if (params) return { route, params };
  }
  return null;
}

export function App() {
  const token = useSessionToken();
  const me = useMe();
  const { path, search } = useLocation();
  const expired = me.error !== null && isUnauthorized(me.error);

  useEffect(() => {
    if (expired) forgetSession();
  }, [expired]);

  useEffect(() => {
    if (!token && path !== '/login') navigate(`/login${path !== '/' ? `?next=${encodeURIComponent(path)}` : ''}`, { replace: true });
    if (token && me.data && path === '/login') navigate(search.get('next') ?? '/', { replace: true });
  }, [token, me.data, path, search]);

  const match = resolve(path);
  useEffect(() => {
    document.title = `${path === '/login' ? 'Log in' : (match?.route.title ?? 'Not found')} · NinjaIT`;
  }, [path, match]);

  if (!token || path === '/login') return <LoginPage />;
  if (me.error && !expired) return <main className="center"><ErrorNote error={me.error} onRetry={() => void me.refetch()} /></main>;
  if (!me.data) return <main className="center"><Spinner /></main>;

  let page: ReactNode;
  if (!match) page = <div className="empty"><h1>Page not found</h1><p className="muted">There is nothing at {path}.</p></div>;
  else if (!roleAtLeast(me.data.role, match.route.role)) {
    page = <div className="empty"><h1>Not allowed</h1><p className="muted">This page needs the {match.route.role} role or higher.</p></div>;
  } else page = match.route.render(match.params, me.data);
  return <Layout me={me.data}><Suspense fallback={<Spinner />}>{page}</Suspense></Layout>;
}
