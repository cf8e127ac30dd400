import { describe, expect, it } from 'vitest';
import { appRouterShape, createAppRouter } from './router.ts';
import type { Services } from './services.ts';

const pathsOf = (router: unknown) => Object.keys((router as { _def: { procedures: Record<string, unknown> } })._def.procedures).sort();

describe('createAppRouter', () => {
  it('builds without reading a service, so the shape (REST schemas, OpenAPI, security catalogue) lists every procedure the server serves', () => {
    const read: string[] = [];
    const services = new Proxy({} as Services, {
      get(_target, property) {
        read.push(String(property));
        return undefined;
      },
    });
    const served = createAppRouter(services);
    // A factory that reads its deps while building would make appRouterShape throw at import.
    expect(read).toEqual([]);
    expect(pathsOf(appRouterShape)).toEqual(pathsOf(served));
    expect(pathsOf(served)).toEqual(expect.arrayContaining(['agent.enroll', 'agent.commands', 'agent.shellOutput', 'admin.patching.policies.list', 'devices.list']));
  });
});
