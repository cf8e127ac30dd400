import { z } from 'zod';

/** IANA zone names this runtime knows (Europe/Paris, America/New_York, UTC...). */
const ZONES = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);

/** Who to call about a machine or a site during maintenance. */
const contactSchema = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(255).optional(),
  phone: z.string().trim().regex(/^[+0-9 ()./-]{3,40}$/, 'A phone number has digits, spaces and + ( ) . / - only').optional(),
}).strict();

/**
 * The known settings keys, shared by organizations and devices (a device's value overrides its
 * organization's). Unknown keys are refused: a typo must not be stored as if it did something.
 */
export const settingsSchema = z.object({
  /** Seconds between an agent's samples, overriding the server's default. */
  agentIntervalSeconds: z.number().int().min(5).max(3_600),
  maintenanceContact: contactSchema,
  timezone: z.string().max(64).refine((zone) => ZONES.has(zone), 'Unknown time zone: use an IANA name such as Europe/Paris'),
  /** Minutes without a heartbeat before a device counts as offline. */
  offlineThresholdMinutes: z.number().int().min(1).max(10_080),
}).partial().strict();

export type Settings = z.infer<typeof settingsSchema>;

/** The stored object's size bound (the table checks 16 KB as a last guard). */
export const MAX_SETTINGS_BYTES = 4_096;

export const boundedSettingsSchema = settingsSchema.refine(
  (settings) => Buffer.byteLength(JSON.stringify(settings)) <= MAX_SETTINGS_BYTES, `Settings are at most ${MAX_SETTINGS_BYTES} bytes of JSON`,
);
