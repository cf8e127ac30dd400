import { z } from 'zod';
import { inventorySchema } from './inventory.ts';

export const enrollInputSchema = z.object({
  token: z.string().min(16).max(256),
  inventory: inventorySchema,
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
});
export type EnrollOutput = z.infer<typeof enrollOutputSchema>;

/** Sent by the agent as WebSocket connectionParams on every connection. */
export const deviceCredentialsSchema = z.object({
  deviceId: z.uuid(),
  deviceSecret: z.string().min(16).max(256),
}).strict();
export type DeviceCredentials = z.infer<typeof deviceCredentialsSchema>;
