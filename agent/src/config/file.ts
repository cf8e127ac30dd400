import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { writePrivateFileAtomic } from '../util/private-files.ts';
import { UsageError } from './env.ts';

/** What `enroll` writes and `run` reads. */
export const agentConfigSchema = z.object({
  server: z.url(),
  deviceId: z.uuid(),
  organizationId: z.uuid(),
  deviceSecret: z.string().min(16).max(256),
  intervalMs: z.number().int().min(1_000).max(3_600_000),
  enrolledAt: z.number().int().positive(),
}).strict();
export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Reads the config file; null when the machine is not enrolled yet. */
export function readConfig(file: string): AgentConfig | null {
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`config file ${file} is not valid JSON (${(err as Error).message}); run "ninjait-agent enroll" again`);
  }
  const parsed = agentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new UsageError(`config file ${file} is invalid (${problems}); run "ninjait-agent enroll" again`);
  }
  return parsed.data;
}

/**
 * Writes the config atomically with mode 0600 from the start, so the device secret is never
 * readable by others and a crash never leaves half a file. The schema stays as it is: the
 * launcher in an installed package reads this file with its own (older) copy of the schema.
 */
export function writeConfig(file: string, config: AgentConfig): void {
  writePrivateFileAtomic(file, `${JSON.stringify(agentConfigSchema.parse(config), null, 2)}\n`);
}
