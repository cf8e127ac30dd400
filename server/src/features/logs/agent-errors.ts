import { createHash } from 'node:crypto';
import type { HeartbeatInput } from '@ninjait/shared';
import type { LogEntry } from '../../stores/documents/index.ts';

/** Stored error texts are bounded: the agent's message is the network's, and logs are read in a page. */
export const MAX_DETAILS_CHARS = 4_000;

export type AgentError = HeartbeatInput['errors'][number];

export const digest = (...parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
export const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** An agent's own errors from its heartbeat as `logs` documents; the id makes a resent error a no-op. */
export function agentErrorLogs(device: { deviceId: string; organizationId: string | null }, errors: readonly AgentError[]): LogEntry[] {
  return errors.map((error) => ({
    id: digest('agent', device.deviceId, error.at, error.code, error.message),
    timestamp: new Date(error.at),
    level: 'error',
    service: 'agent',
    message: truncate(error.message, MAX_DETAILS_CHARS),
    deviceId: device.deviceId,
    organizationId: device.organizationId,
    error: { code: error.code, details: truncate(error.message, MAX_DETAILS_CHARS) },
  }));
}

