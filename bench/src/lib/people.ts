import { randomBytes } from 'node:crypto';
import { trpcHttp } from './http-trpc.ts';
import type { ServerUnderTest } from './server-process.ts';

/** A person in `org` with a live session, for console-side calls (dashboard, commands). */
export async function loginAs(server: ServerUnderTest, org: string, role: 'owner' | 'admin' | 'technician' | 'viewer' = 'owner') {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const password = randomBytes(18).toString('base64url');
  await server.admin('admin.users.create', 'mutation', { org, email, password, role, name: 'Bench' });
  const { sessionToken } = await trpcHttp<{ sessionToken: string }>(server.url, 'auth.login', 'mutation', { email, password });
  return { email, sessionToken, headers: { authorization: `Bearer ${sessionToken}` } };
}
