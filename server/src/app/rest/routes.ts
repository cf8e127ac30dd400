import { decodePathPart } from '../../platform/http/request-target.ts';

/** One REST operation: an HTTP method and path in front of one tRPC procedure, with the same input schema. */
export interface RestRoute {
  method: 'GET' | 'POST' | 'PATCH';
  /** OpenAPI path template; `{id}` segments become the input's `id`. */
  path: string;
  procedure: string;
  summary: string;
  tag: 'Devices' | 'Commands' | 'Tickets' | 'Analytics' | 'Identity';
}

/**
 * The integration procedures PSA and scripting tools call without a tRPC client. Each is exactly
 * its tRPC procedure (same auth, scopes, roles, tenant scoping, limits); only the transport differs.
 */
export const REST_ROUTES: readonly RestRoute[] = [
  { method: 'GET', path: '/api/v1/me', procedure: 'auth.me', summary: 'Who the key or session acts for', tag: 'Identity' },
  { method: 'GET', path: '/api/v1/devices', procedure: 'devices.list', summary: 'List devices (paged)', tag: 'Devices' },
  { method: 'GET', path: '/api/v1/devices/{id}', procedure: 'devices.get', summary: 'One device', tag: 'Devices' },
  { method: 'GET', path: '/api/v1/commands', procedure: 'commands.list', summary: 'List commands (paged)', tag: 'Commands' },
  { method: 'POST', path: '/api/v1/commands', procedure: 'commands.run', summary: 'Run a command on a device', tag: 'Commands' },
  { method: 'GET', path: '/api/v1/commands/{id}', procedure: 'commands.get', summary: 'One command and its state', tag: 'Commands' },
  { method: 'POST', path: '/api/v1/commands/{id}/cancel', procedure: 'commands.cancel', summary: 'Cancel a command', tag: 'Commands' },
  { method: 'GET', path: '/api/v1/tickets', procedure: 'tickets.list', summary: 'List tickets', tag: 'Tickets' },
  { method: 'POST', path: '/api/v1/tickets', procedure: 'tickets.create', summary: 'Open a ticket', tag: 'Tickets' },
  { method: 'GET', path: '/api/v1/tickets/{id}', procedure: 'tickets.get', summary: 'One ticket', tag: 'Tickets' },
  { method: 'PATCH', path: '/api/v1/tickets/{id}', procedure: 'tickets.update', summary: 'Change a ticket', tag: 'Tickets' },
  { method: 'POST', path: '/api/v1/tickets/{id}/comments', procedure: 'tickets.comment', summary: 'Comment on a ticket', tag: 'Tickets' },
  { method: 'POST', path: '/api/v1/tickets/{id}/close', procedure: 'tickets.close', summary: 'Close a ticket', tag: 'Tickets' },
  { method: 'GET', path: '/api/v1/analytics/device-status', procedure: 'analytics.deviceStatusCounts', summary: 'Devices per status', tag: 'Analytics' },
  { method: 'GET', path: '/api/v1/analytics/weekly-report', procedure: 'analytics.weeklyReport', summary: 'The weekly fleet report', tag: 'Analytics' },
];

/** The route for a method and path, and the values of its `{…}` segments; null when none matches. */
export function matchRoute(method: string, path: string): { route: RestRoute; params: Record<string, string> } | null {
  const parts = path.split('/');
  for (const route of REST_ROUTES) {
    if (route.method !== method) continue;
    const template = route.path.split('/');
    if (template.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = template.every((segment, i) => {
      const part = parts[i]!;
      if (segment.startsWith('{')) {
        const value = decodePathPart(part);
        if (value === null || value.length === 0) return false;
        params[segment.slice(1, -1)] = value;
        return true;
      }
      return segment === part;
    });
    if (matches) return { route, params };
  }
  return null;
}

/** Whether any route has this path with another method (405 rather than 404). */
export const pathKnown = (path: string) => REST_ROUTES.some((route) => matchRoute(route.method, path)?.route.path === route.path);
