import { describe, expect, it } from 'vitest';
import { keyRoleFor, requiredScope } from './scopes.ts';

describe('API key scopes', () => {
  it('maps the integration areas to their scopes and the rest to admin', () => {
    expect(requiredScope('devices.list', 'query')).toEqual({ kind: 'scope', scope: 'devices:read' });
    expect(requiredScope('devices.decommission', 'mutation')).toEqual({ kind: 'scope', scope: 'admin' });
    expect(requiredScope('commands.run', 'mutation')).toEqual({ kind: 'scope', scope: 'commands:run' });
    expect(requiredScope('tickets.update', 'mutation')).toEqual({ kind: 'scope', scope: 'tickets:manage' });
    expect(requiredScope('analytics.fleetSummary', 'query')).toEqual({ kind: 'scope', scope: 'analytics:read' });
    expect(requiredScope('users.create', 'mutation')).toEqual({ kind: 'scope', scope: 'admin' });
    expect(requiredScope('apiKeys.create', 'mutation')).toEqual({ kind: 'never' });
  });

  it('reads the script library with devices:read, runs and schedules with commands:run, writes scripts with admin', () => {
    for (const path of ['scripts.list', 'scripts.get', 'scripts.runs.list', 'scripts.runs.get', 'scripts.schedules.list']) {
      expect(requiredScope(path, 'query'), path).toEqual({ kind: 'scope', scope: 'devices:read' });
    }
    for (const path of ['scripts.run', 'scripts.schedules.create', 'scripts.schedules.setEnabled', 'scripts.schedules.delete']) {
      expect(requiredScope(path, 'mutation'), path).toEqual({ kind: 'scope', scope: 'commands:run' });
    }
    expect(requiredScope('scripts.create', 'mutation')).toEqual({ kind: 'scope', scope: 'admin' });
    expect(requiredScope('scripts.update', 'mutation')).toEqual({ kind: 'scope', scope: 'admin' });
    expect(keyRoleFor(['commands:run'], 'owner', 'scripts.create', 'mutation')).toBeNull();
    expect(keyRoleFor(['devices:read'], 'owner', 'scripts.run', 'mutation')).toBeNull();
  });

  it("never acts above the creator's role or the scope's cap", () => {
    expect(keyRoleFor(['devices:read'], 'owner', 'devices.list', 'query')).toBe('viewer');
    expect(keyRoleFor(['commands:run'], 'viewer', 'commands.run', 'mutation')).toBe('viewer');
    expect(keyRoleFor(['commands:run'], 'admin', 'commands.run', 'mutation')).toBe('technician');
    expect(keyRoleFor(['admin'], 'owner', 'organizations.create', 'mutation')).toBe('admin');
    expect(keyRoleFor(['admin'], 'technician', 'users.create', 'mutation')).toBe('technician');
  });

  it('refuses procedures outside the scopes, and key management to every key', () => {
    expect(keyRoleFor(['devices:read'], 'owner', 'tickets.create', 'mutation')).toBeNull();
    expect(keyRoleFor(['tickets:manage'], 'owner', 'devices.list', 'query')).toBeNull();
    expect(keyRoleFor(['admin'], 'owner', 'apiKeys.create', 'mutation')).toBeNull();
    expect(keyRoleFor(['admin'], 'owner', 'auth.logout', 'mutation')).toBeNull();
  });
});
