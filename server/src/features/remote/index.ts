import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { Auditor, LocalDevices } from '../commands/index.ts';
import { createDeviceRpc } from './device-rpc.ts';
import { createRemoteService } from './service.ts';

export { createRemoteRouter } from './remote.router.ts';
export { createRemoteAgentProcedures } from './agent-procedures.ts';
export type { RemoteService } from './service.ts';
export type { DeviceRpc } from './device-rpc.ts';

/** Files, processes, services and OS logs of devices, over their command streams. */
export function createRemoteFeature(deps: { db: RelationalStore; cache: CacheStore; audit: Auditor; local?: LocalDevices }) {
  const rpc = createDeviceRpc({ cache: deps.cache, ...(deps.local ? { local: deps.local } : {}) });
  return { rpc, service: createRemoteService({ db: deps.db, rpc, audit: deps.audit }) };
}
