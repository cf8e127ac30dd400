import { join, resolve } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile } from '../util/private-files.ts';

/** Where the agent keeps its config file and its data. */
export interface AgentPaths {
  configDir: string;
  dataDir: string;
  /** JSON, mode 0600: server URL and device credentials. */
  configFile: string;
  /** JSON, mode 0600: the server keys (SPKI SHA-256) this agent accepts; absent for http://. */
  serverPinsFile: string;
  outboxFile: string;
  /** Which commands ran (so none runs twice). */
  commandsFile: string;
  /** What the running agent learned about its connection, for `status`. */
  linkStateFile: string;
}

export const CONFIG_FILE = 'agent.json';
export const SERVER_PINS_FILE = 'server-pins.json';
export const OUTBOX_FILE = 'outbox.db';
export const COMMANDS_DB_FILE = 'commands.db';
export const LINK_STATE_FILE = 'link-state.json';

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
  return {
    configDir,
    dataDir,
    configFile: join(configDir, CONFIG_FILE),
    serverPinsFile: join(configDir, SERVER_PINS_FILE),
    outboxFile: join(dataDir, OUTBOX_FILE),
    commandsFile: join(dataDir, COMMANDS_DB_FILE),
    linkStateFile: join(dataDir, LINK_STATE_FILE),
  };
}

/**
 * Brings the agent's folders to 0700 and its files to 0600, including ones an older agent left
 * wider; the SQLite databases are handled where they are opened (ensurePrivateDatabase).
 */
export function secureAgentPaths(paths: AgentPaths): void {
  ensurePrivateDir(paths.configDir);
  ensurePrivateDir(paths.dataDir);
  for (const file of [paths.configFile, paths.serverPinsFile, paths.linkStateFile]) ensurePrivateFile(file);
}
