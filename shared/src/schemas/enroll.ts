import { z } from 'zod';
import { inventorySchema } from './inventory.ts';

/** Sent by the agent as WebSocket connectionParams on every connection. */
export const deviceCredentialsSchema = z.object({
  deviceId: z.uuid(),
  deviceSecret: z.string().min(16).max(256),
}).strict();
export type DeviceCredentials = z.infer<typeof deviceCredentialsSchema>;

export const enrollInputSchema = z.object({
  token: z.string().min(16).max(256),
  inventory: inventorySchema,
  /**
   * The credentials this machine holds already, if any. Re-enrolling a machine the server
   * knows keeps its device only with proof of its current secret; without it the enrollment
   * becomes a new device pending an admin's approval (it cannot take the known one over).
   */
  currentCredentials: deviceCredentialsSchema.optional(),
  /**
   * The wire protocol the agent speaks (PROTOCOL_VERSION); absent from agents released before
   * it was sent, which speak version 1. The server refuses versions it does not serve.
   */
  protocolVersion: z.number().int().min(1).max(1_000_000).optional(),
}).strict();
export type EnrollInput = z.infer<typeof enrollInputSchema>;

export const enrollOutputSchema = z.object({
  deviceId: z.uuid(),
  organizationId: z.uuid(),
  /** Shown once; the server keeps only its hash. */
  deviceSecret: z.string(),
  /** Where the agent's sequence continues, so a re-enrolled machine is not filtered as replay. */
  nextSeq: z.number().int().positive(),
  intervalMs: z.number().int().positive(),
  reused: z.boolean(),
  /**
   * `pending_approval`: the machine key belongs to a device this agent could not prove it is;
   * an admin approves it as a new device or lets it replace the known one. Until then the
   * agent connects and buffers, and no command reaches it. Absent (older servers): active.
   */
  status: z.enum(['active', 'pending_approval']).optional(),
  /** The newest protocol the server speaks (absent from servers older than the version). */
  protocolVersion: z.number().int().positive().optional(),
});
export type EnrollOutput = z.infer<typeof enrollOutputSchema>;
