import { join, resolve } from 'node:path';

/** Where the agent keeps its config file and its data. */
export interface AgentPaths {
  configDir: string;
  dataDir: string;
  /** JSON, mode 0600: server URL and device credentials. */
  configFile: string;
  outboxFile: string;
}

export const CONFIG_FILE = 'agent.json';
export const OUTBOX_FILE = 'outbox.db';

/**
 * Platform defaults: Linux splits config (`/etc/ninjait`) from state (`/var/lib/ninjait`)
 * per the FHS; macOS and Windows keep both in one machine-wide folder. An explicit
 * `dataDir` (flag or NINJAIT_DATA_DIR) holds both, which is what tests and dev setups want.
 */
export function resolvePaths(opts: { dataDir?: string | undefined; platform?: NodeJS.Platform; programData?: string | undefined } = {}): AgentPaths {
  const platform = opts.platform ?? process.platform;
  let configDir: string;
  let dataDir: string;
  if (opts.dataDir) {
    configDir = dataDir = resolve(opts.dataDir);
  } else if (platform === 'win32') {
    configDir = dataDir = join(opts.programData ?? 'C:\\ProgramData', 'NinjaIT');
  } else if (platform === 'darwin') {
    configDir = dataDir = '/Library/Application Support/NinjaIT';
  } else {
    configDir = '/etc/ninjait';
    dataDir = '/var/lib/ninjait';
  }
  return { configDir, dataDir, configFile: join(configDir, CONFIG_FILE), outboxFile: join(dataDir, OUTBOX_FILE) };
}
