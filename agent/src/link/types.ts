import type { TRPCClient } from '@trpc/client';
import type { AppRouter } from '@ninjait/server/router';
import type { HeartbeatInput, HeartbeatOutput, PushInput, PushOutput } from '@ninjait/shared';

/** The server procedures the agent calls over its connection. */
export interface AgentApi {
  heartbeat(input: HeartbeatInput, signal?: AbortSignal): Promise<HeartbeatOutput>;
  push(input: PushInput, signal?: AbortSignal): Promise<PushOutput>;
}

/** An authenticated, self-reconnecting connection to the server. */
export interface AgentLink extends AgentApi {
  /** The typed client on the same socket, for features beyond push and heartbeat (commands). */
  readonly trpc: TRPCClient<AppRouter>;
  /** True while the socket is open and authenticated requests can flow. */
  readonly connected: boolean;
  /**
   * Sends a binary frame (a download chunk, `chunk-frames.ts`) on the same socket: false when
   * the socket is not open, and the caller answers another way.
   */
  sendFrame(frame: Buffer): boolean;
  /** Binary frames from the server (upload chunks, `upload-frames.ts`); returns an unsubscribe function. */
  onFrame(listener: (frame: Buffer) => void): () => void;
  /** Called on every (re)connect; returns an unsubscribe function. */
  onConnected(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Why a call failed, in the terms the sender acts on. */
export const LINK_ERROR_CODES = [
  /** Device secret refused (decommissioned or wrong): retry slowly, a person must act. */
  'UNAUTHORIZED',
  /** The server refuses this input; sending it again cannot help. */
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  /** Rate limited: back off harder. */
  'TOO_MANY_REQUESTS',
  'TIMEOUT',
  /** Socket lost, server error: retry with backoff. */
  'TRANSIENT',
] as const;
export type LinkErrorCode = (typeof LINK_ERROR_CODES)[number];

/** A failed call, classified. */
export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(
    readonly code: LinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
