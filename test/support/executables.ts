import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Which outside programs this machine has, so a test that needs one skips with a reason
 * instead of failing on `spawn … ENOENT` (and leaving what it had started behind).
 */

// root's PATH does not always include the sbin folders, where Debian puts servers.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The executable's path (PATH, then the sbin folders), or null. */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** The newest PostgreSQL server's bin folder (Debian: /usr/lib/postgresql/<version>/bin), or null. */
export function postgresBinDir(): string | null {
  let versions: string[];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  } catch {
    return null;
  }
  const version = versions.at(-1);
  return version ? join('/usr/lib/postgresql', version, 'bin') : null;
}

/**
 * Why the fault suite's private stores (a PostgreSQL cluster and a Redis of its own, see
 * private-stores.ts) cannot start here, or null when they can.
 */
export function privateStoresUnavailable(): string | null {
  const pgBin = postgresBinDir();
  const missing = [
    ...(pgBin && findIn(pgBin, 'initdb') && findIn(pgBin, 'pg_ctl') ? [] : ['PostgreSQL server programs (initdb, pg_ctl under /usr/lib/postgresql; Debian package postgresql)']),
    ...(findExecutable('redis-server') && findExecutable('redis-cli') ? [] : ['redis-server and redis-cli (Debian package redis-server)']),
    ...(process.getuid?.() === 0 && !findExecutable('runuser') ? ['runuser, to run initdb as postgres (Debian package util-linux)'] : []),
  ];
  return missing.length > 0 ? `missing ${missing.join('; ')}` : null;
}

/** Why a private VictoriaMetrics (the InfluxDB line-protocol peer) cannot start here, or null. */
export function victoriaMetricsUnavailable(): string | null {
  return findExecutable('victoria-metrics') ? null : 'victoria-metrics is not installed (Debian package victoria-metrics; npm test installs it when run as root)';
}

function findIn(dir: string, name: string): string | null {
  try {
    accessSync(join(dir, name), constants.X_OK);
    return join(dir, name);
  } catch {
    return null;
  }
}
