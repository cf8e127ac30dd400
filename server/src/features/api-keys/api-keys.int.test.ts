import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, fakeInventory, relationalEngines, startHarness, type Client, type Harness } from '../../../test-support/index.ts';

const PASSWORD = 'correct horse battery staple';

/**
 * API keys end to end on a real server: created with a session, shown once, used as a Bearer
 * token over tRPC and over REST with plain fetch, narrowed by scope and by the creator's role,
 * revoked, expired with the creator's removal; the OpenAPI document describes the same inputs.
 */
describe.each(relationalEngines().map((relational) => ({ relational, cache: relational === 'postgres' && process.env.REDIS_URL ? 'redis' as const : 'memory' as const })))(
  'API keys and the REST surface on $relational + $cache',
  ({ relational, cache }) => {
    let h: Harness;
    let admin: Client;
    let technician: Client;
    let adminUserId: string;
    let deviceId: string;
    let otherDeviceId: string;

    const rest = (path: string, key: string | null, init: RequestInit = {}) => fetch(`${h.server.url}${path}`, {
      ...init,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    });

    beforeAll(async () => {
      h = await startHarness({ relational, cache });
      const org = await h.admin.admin.organizations.create.mutate({ name: `keys-${relational}` });
      const other = await h.admin.admin.organizations.create.mutate({ name: `keys-other-${relational}` });
      const people = await Promise.all((['admin', 'technician'] as const).map(async (role) => {
        const email = `${role}@keys-${relational}.test`;
        const user = await h.admin.admin.users.create.mutate({ org: org.id, email, password: PASSWORD, role });
        const { sessionToken } = await h.http().auth.login.mutate({ email, password: PASSWORD });
        return { id: user.id, client: h.http({ authorization: `Bearer ${sessionToken}` }) };
      }));
      [admin, technician] = [people[0]!.client, people[1]!.client];
      adminUserId = people[0]!.id;
      const enroll = async (orgId: string, name: string) => {
        const { token } = await h.admin.admin.tokens.create.mutate({ org: orgId });
        return (await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(name) })).deviceId;
      };
      deviceId = await enroll(org.id, `keys-device-${relational}`);
      otherDeviceId = await enroll(other.id, `keys-other-device-${relational}`);
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
    });

    it('shows a key once, stores only its hash, and lets it read devices over tRPC and REST', async () => {
      const { key, record } = await admin.apiKeys.create.mutate({ name: 'psa', scopes: ['devices:read'] });
      expect(key).toMatch(/^nk_[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(record)).not.toContain(key);
      expect(key.startsWith(record.keyPrefix)).toBe(true);
      const stored = await h.server.services.db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [record.id]);
      expect(stored.rows[0]!.key_hash).not.toContain(key.slice(3));

      const viaTrpc = await h.http({ authorization: `Bearer ${key}` }).devices.list.query({});
      expect(viaTrpc.items.map((device) => device.id)).toEqual([deviceId]);

      const list = await rest('/api/v1/devices?limit=10&sort=name', key);
      expect(list.status).toBe(200);
      expect(((await list.json()) as { items: { id: string }[] }).items.map((device) => device.id)).toEqual([deviceId]);
      const one = await rest(`/api/v1/devices/${deviceId}`, key);
      expect(one.status).toBe(200);
      expect(((await one.json()) as { id: string }).id).toBe(deviceId);
      // Another organization's device does not exist for this key.
      expect((await rest(`/api/v1/devices/${otherDeviceId}`, key)).status).toBe(404);

      const [listed] = (await admin.apiKeys.list.query()).filter((entry) => entry.id === record.id);
      expect(listed?.lastUsedAt).not.toBeNull();
    });

    it('refuses what the scopes do not cover, and never acts above the scope or the creator', async () => {
      const reader = (await admin.apiKeys.create.mutate({ name: 'reader', scopes: ['devices:read'] })).key;
      expect((await rest('/api/v1/tickets', reader)).status).toBe(403);
      expect(await codeOf(h.http({ authorization: `Bearer ${reader}` }).devices.decommission.mutate({ id: deviceId }))).toBe('FORBIDDEN');
      // Even the admin scope of an admin stops below what owners do, and keys never manage keys.
      const adminKey = (await admin.apiKeys.create.mutate({ name: 'admin', scopes: ['admin'] })).key;
      expect(await codeOf(h.http({ authorization: `Bearer ${adminKey}` }).apiKeys.create.mutate({ name: 'child', scopes: ['admin'] }))).toBe('FORBIDDEN');
      expect(await codeOf(h.http({ authorization: `Bearer ${adminKey}` }).organizations.create.mutate({ name: 'nope', email: 'nope@keys.test' }))).toBe('FORBIDDEN');
      // A technician's admin-scoped key is a technician.
      const techKey = (await technician.apiKeys.create.mutate({ name: 'tech', scopes: ['admin'] })).key;
      expect(await codeOf(h.http({ authorization: `Bearer ${techKey}` }).tokens.create.mutate({ name: 'x', maxUses: 1 }))).toBe('FORBIDDEN');
      const ticket = await rest('/api/v1/tickets', techKey, { method: 'POST', body: JSON.stringify({ title: 'from a technician key' }) });
      expect(ticket.status).toBe(200);
    });

    it('reads the script library with devices:read, runs and schedules it with commands:run, and writes scripts only with admin', async () => {
      const script = await admin.scripts.create.mutate({ name: 'Uptime', language: 'shell', targetOs: ['linux'], body: 'uptime' });
      const as = async (scopes: ('devices:read' | 'commands:run' | 'admin')[]) =>
        h.http({ authorization: `Bearer ${(await admin.apiKeys.create.mutate({ name: `scripts ${scopes.join(' ')}`, scopes })).key}` });
      const reader = await as(['devices:read']);
      expect((await reader.scripts.list.query()).map((s) => s.name)).toContain('Uptime');
      expect((await reader.scripts.get.query({ id: script.id })).versions).toHaveLength(1);
      const target = { kind: 'devices' as const, deviceIds: [deviceId] };
      expect(await codeOf(reader.scripts.run.mutate({ id: script.id, target }))).toBe('FORBIDDEN');
      expect(await codeOf(reader.scripts.create.mutate({ name: 'x', language: 'shell', targetOs: ['linux'], body: 'id' }))).toBe('FORBIDDEN');

      const runner = await as(['commands:run']);
      const run = await runner.scripts.run.mutate({ id: script.id, target });
      expect(run).toMatchObject({ devices: 1, version: 1 });
      const schedule = await runner.scripts.schedules.create.mutate({ scriptId: script.id, name: 'nightly', cron: '0 3 * * *', timezone: 'UTC', target });
      await runner.scripts.schedules.setEnabled.mutate({ id: schedule.id, enabled: false });
      await runner.scripts.schedules.delete.mutate({ id: schedule.id });
      // Running is not writing: what runs on every device stays an admin's.
      expect(await codeOf(runner.scripts.update.mutate({ id: script.id, body: 'rm -rf /' }))).toBe('FORBIDDEN');
      expect(await codeOf(runner.scripts.create.mutate({ name: 'x', language: 'shell', targetOs: ['linux'], body: 'id' }))).toBe('FORBIDDEN');
      // The runner key reads nothing outside its scope, and another organization's device is not found.
      expect(await codeOf(runner.scripts.list.query())).toBe('FORBIDDEN');
      expect(await codeOf(runner.scripts.run.mutate({ id: script.id, target: { kind: 'devices', deviceIds: [otherDeviceId] } }))).toBe('NOT_FOUND');

      const writer = await as(['admin']);
      expect((await writer.scripts.update.mutate({ id: script.id, body: 'uptime -p' })).currentVersion).toBe(2);
      // A technician's admin key is a technician: it runs scripts but cannot write them.
      const techWriter = h.http({ authorization: `Bearer ${(await technician.apiKeys.create.mutate({ name: 'tech scripts', scopes: ['admin'] })).key}` });
      expect(await codeOf(techWriter.scripts.update.mutate({ id: script.id, body: 'id' }))).toBe('FORBIDDEN');
      expect(await techWriter.scripts.run.mutate({ id: script.id, target })).toMatchObject({ version: 2 });
    });

    it('runs commands and manages tickets over REST with the right scopes, validating input like tRPC', async () => {
      const key = (await admin.apiKeys.create.mutate({ name: 'psa-full', scopes: ['commands:run', 'tickets:manage'] })).key;
      const created = await rest('/api/v1/tickets', key, { method: 'POST', body: JSON.stringify({ title: 'Printer on fire', priority: 'high', deviceId }) });
      expect(created.status).toBe(200);
      const ticket = (await created.json()) as { id: string; title: string };
      const patched = await rest(`/api/v1/tickets/${ticket.id}`, key, { method: 'PATCH', body: JSON.stringify({ status: 'in_progress' }) });
      expect(patched.status).toBe(200);
      expect(((await patched.json()) as { status: string }).status).toBe('in_progress');
      expect((await rest(`/api/v1/tickets/${ticket.id}/comments`, key, { method: 'POST', body: JSON.stringify({ body: 'on it' }) })).status).toBe(200);

      const bad = await rest('/api/v1/tickets', key, { method: 'POST', body: JSON.stringify({ title: '', extra: 1 }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
      expect((await rest('/api/v1/tickets', key, { method: 'POST', body: '{not json' })).status).toBe(400);
      expect((await rest('/api/v1/tickets', key, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
      expect((await rest('/api/v1/tickets', key, { method: 'DELETE' })).status).toBe(405);
      expect((await rest('/api/v1/nothing', key)).status).toBe(404);

      const run = await rest('/api/v1/commands', key, { method: 'POST', body: JSON.stringify({ deviceId, script: 'echo hi' }) });
      expect(run.status).toBe(200);
      const command = (await run.json()) as { id: string };
      const fetched = await rest(`/api/v1/commands/${command.id}`, key);
      expect(((await fetched.json()) as { id: string }).id).toBe(command.id);
      expect((await rest(`/api/v1/commands/${command.id}/cancel`, key, { method: 'POST' })).status).toBe(200);
      // The cookie never authenticates REST: only the Authorization header does.
      expect((await rest('/api/v1/tickets', null, { headers: { cookie: `ninjait_session=${key}` } })).status).toBe(401);
    });

    it('stops accepting a key once revoked, expired in effect by its creator\'s removal, or forged', async () => {
      const { key, record } = await admin.apiKeys.create.mutate({ name: 'short-lived', scopes: ['devices:read'], expiresInDays: 1 });
      expect((await rest('/api/v1/me', key)).status).toBe(200);
      await admin.apiKeys.revoke.mutate({ id: record.id });
      expect((await rest('/api/v1/me', key)).status).toBe(401);
      expect((await rest('/api/v1/me', `${key.slice(0, -1)}A`)).status).toBe(401);
      // Another person's key cannot be revoked by a non-admin: NOT_FOUND, as if it did not exist.
      const other = await admin.apiKeys.create.mutate({ name: 'admin-own', scopes: ['devices:read'] });
      expect(await codeOf(technician.apiKeys.revoke.mutate({ id: other.record.id }))).toBe('NOT_FOUND');
      // Expiry is the database's clock: a key past its expiry is refused.
      const expiring = await admin.apiKeys.create.mutate({ name: 'expiring', scopes: ['devices:read'] });
      await h.server.services.db.query(`UPDATE api_keys SET expires_at = NOW() - INTERVAL '1 second' WHERE id = $1`, [expiring.record.id]);
      expect((await rest('/api/v1/me', expiring.key)).status).toBe(401);
      // Removing the creator ends their keys.
      const techKey = (await technician.apiKeys.create.mutate({ name: 'tech-read', scopes: ['devices:read'] })).key;
      expect((await rest('/api/v1/devices', techKey)).status).toBe(200);
      const techId = (await h.http({ authorization: `Bearer ${techKey}` }).auth.me.query()).userId;
      await admin.users.remove.mutate({ userId: techId });
      expect((await rest('/api/v1/devices', techKey)).status).toBe(401);
      expect(adminUserId).toBeTruthy();
    });

    it('serves an OpenAPI 3 document generated from the procedures\' zod schemas', async () => {
      const response = await fetch(`${h.server.url}/api/openapi.json`);
      expect(response.status).toBe(200);
      const doc = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string; schema: { type?: string; maximum?: number } }[]; requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required?: string[] } }> } }>> };
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.paths['/api/v1/devices']!.get!.operationId).toBe('devices.list');
      const limit = doc.paths['/api/v1/devices']!.get!.parameters!.find((p) => p.name === 'limit')!;
      expect(limit).toMatchObject({ in: 'query', schema: { type: 'integer' } });
      const body = doc.paths['/api/v1/tickets']!.post!.requestBody!.content['application/json']!.schema;
      expect(body.required).toEqual(['title']);
      expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['title', 'priority', 'deviceId']));
      // Path parameters are not repeated in the body.
      const patch = doc.paths['/api/v1/tickets/{id}']!.patch!;
      expect(patch.parameters!.map((p) => `${p.in}:${p.name}`)).toEqual(['path:id']);
      expect(Object.keys(patch.requestBody!.content['application/json']!.schema.properties)).not.toContain('id');
    });
  },
);
