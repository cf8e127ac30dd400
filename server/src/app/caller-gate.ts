import type { CallerGate } from '../platform/trpc/caller.ts';
import { authenticateDevice } from '../features/devices/devices.ts';
import { createCredentialRefusalRecorder } from '../features/devices/credential-refusals.ts';
import type { Services } from './services.ts';

/**
 * How the platform's procedure builders and context prove and meter a caller, over the features
 * that own each part: sessions (auth), API keys, device credentials (devices), rate limits and
 * the api_calls recorder (billing).
 */
export function createCallerGate(services: Pick<Services, 'db' | 'log' | 'sessions' | 'apiKeys' | 'rateLimit' | 'agents' | 'apiCalls' | 'localAdminTokenHash'>): CallerGate {
  const { db, log, sessions, apiKeys, rateLimit, agents, apiCalls } = services;
  // One per running server: its throttle is what keeps a flood of refused sockets off the database.
  const refusals = createCredentialRefusalRecorder(db, log);
  return {
    log,
    session: (token) => sessions.get(token),
    apiKey: (key, path, type, ip) => apiKeys.authorize(key, path, type, ip),
    apiKeyHolder: (key) => apiKeys.holder(key),
    rateLimit: (userId, path, limit) => rateLimit(userId, path, limit),
    localAdminTokenHash: services.localAdminTokenHash,
    ...(apiCalls ? { recordCall: (row) => apiCalls.record(row) } : {}),
    devices: {
      authenticate: (deviceId, secret) => authenticateDevice(db, deviceId, secret),
      connected: (deviceId, socket, protocolVersion) => agents.add(deviceId, socket, protocolVersion),
      refused: (deviceId, ip) => refusals.record(deviceId, ip),
    },
  };
}
