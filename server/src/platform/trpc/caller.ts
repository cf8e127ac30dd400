import type { Role } from '@ninjait/shared';
import type { ApiCallSource } from './api-call-source.ts';

/**
 * Who calls, as the procedures see it. The platform owns these shapes (the context carries them);
 * the features that prove them (auth's sessions, api-keys, devices' credentials) fill them in.
 */

/** A person's session, or an API key acting for its creator. Role is re-read on change: role and password changes drop sessions. */
export interface SessionUser {
  userId: string;
  email: string;
  role: Role;
  organizationId: string;
  /** Set while the person must set up a second factor their organization requires: nothing else is open. */
  restricted?: 'two_factor_setup' | undefined;
  /** Where and when the session was opened, for the person's sessions page. */
  ip?: string | null | undefined;
  createdAt?: string | undefined;
}

/** The identity a device proves on every connection. */
export interface AuthenticatedDevice {
  deviceId: string;
  organizationId: string;
}

/** One `api_calls` row. */
export interface ApiCallRow {
  timestamp: number;
  organization_id: string;
  endpoint: string;
  method: string;
  status_code: number;
  response_time_ms: number;
  user_id: string;
  /** Billing counts 'person' and 'api_key' calls; 'agent' traffic is recorded apart from them. */
  source: ApiCallSource;
}

/**
 * What the procedure builders and the context ask of the features that own sessions, API keys,
 * device credentials, rate limits and call recording. The composition root (app/) builds it;
 * the platform knows only this shape, so it reaches no feature.
 */
export interface CallerGate {
  /** Unexpected procedure failures go here. */
  log: { error(details: object, message: string): void };
  /** A session token's person, or null (expired, ended, unknown). */
  session(token: string): Promise<SessionUser | null>;
  /** An API key's creator narrowed to what the key may do on this call; throws UNAUTHORIZED for a dead key. */
  apiKey(key: string, path: string, type: 'query' | 'mutation' | 'subscription', ip: string | null): Promise<SessionUser>;
  /** An API key's creator, for recording who called (no scope check, no write). */
  apiKeyHolder(key: string): Promise<SessionUser | null>;
  /** The caller's budget for this endpoint: mutations get the default, reads their own larger one. */
  rateLimit(userId: string, path: string, limit?: 'read'): Promise<{ allowed: boolean; resetInSec: number }>;
  /** Hash of the credential in DATA_DIR that lets the local CLI administer this server. */
  localAdminTokenHash: string;
  /** Batches every call into api_calls; absent where nothing is billed (contexts built by hand in tests). */
  recordCall?: ((row: ApiCallRow) => void) | undefined;
  /** Device credentials from a socket's connection params. */
  devices: {
    /** Throws AppError UNAUTHORIZED for credentials that do not check out. */
    authenticate(deviceId: string, secret: string): Promise<AuthenticatedDevice>;
    /**
     * The device's agent holds this socket now (commands and control reach it here), speaking
     * `protocolVersion` (what it may be sent: upload frames from UPLOAD_FRAMES_PROTOCOL on).
     */
    connected(deviceId: string, socket: import('ws').WebSocket, protocolVersion: number): void;
    /** A well-formed id with a refused secret: throttled, never awaited, never throws. */
    refused(deviceId: string, ip: string | null): void;
  };
}
