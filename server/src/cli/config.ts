import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/** What the CLI remembers between runs: the organization commands act in when `--org` is left out. */
const cliConfigSchema = z.object({
  org: z.object({ id: z.uuid(), name: z.string().max(255) }).optional(),
}).strip();
export type CliConfig = z.infer<typeof cliConfigSchema>;

/** `$NINJAIT_CONFIG`, else `$XDG_CONFIG_HOME/ninjait/cli.json`, else `~/.config/ninjait/cli.json`. */
export function cliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NINJAIT_CONFIG) return env.NINJAIT_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'ninjait', 'cli.json');
}

/** The saved config; an absent or unreadable file is an empty one (it only holds defaults). */
export async function readCliConfig(path = cliConfigPath()): Promise<CliConfig> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return {};
  try {
    const parsed = cliConfigSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** Replaces the file whole (written beside it, then renamed), owner-only. */
export async function writeCliConfig(config: CliConfig, path = cliConfigPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/** `--org` when given, else the organization `ninjait org use` chose, else null. */
export async function defaultOrg(flag: string | undefined): Promise<string | null> {
  return flag ?? (await readCliConfig()).org?.id ?? null;
}
