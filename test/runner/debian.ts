import { existsSync } from 'node:fs';
import { findExecutable } from '../support/executables.ts';
import { capture, say } from './processes.ts';
// The names alone, in a file .ci/run reads before npm ci (it installs them while npm ci runs).
import PACKAGES from './debian-packages.json' with { type: 'json' };

/** A Debian package some tests need, how to tell it is there, and what skips without it. */
export interface Wanted {
  packages: string[];
  present(): boolean;
  neededBy: string;
}

/** Debian's ClickHouse: the program and the config file .ci/start-clickhouse.sh copies. */
export const hasClickhouseServer = () =>
  Boolean(findExecutable('clickhouse-server')) && existsSync('/etc/clickhouse-server/config.xml');
export const CHROMIUM = '/usr/bin/chromium';

/** What the suites use from Debian when it is there; `installers` adds the installers test's tools. */
export function wantedPackages(options: { installers: boolean; msi?: boolean }): Wanted[] {
  return [
    { packages: PACKAGES.curl, present: () => Boolean(findExecutable('curl')), neededBy: 'starting ClickHouse and VictoriaMetrics (.ci/start-*.sh) and the installers test' },
    { packages: PACKAGES.victoriaMetrics, present: () => Boolean(findExecutable('victoria-metrics')), neededBy: 'the Influx adapter and drain-fuzz tests (INFLUX_TEST_URL) and the fault suite\'s VictoriaMetrics outage' },
    { packages: PACKAGES.clickhouse, present: hasClickhouseServer, neededBy: 'the @clickhouse/client adapter test (CLICKHOUSE_TEST_URL)' },
    { packages: PACKAGES.chromium, present: () => existsSync(CHROMIUM), neededBy: 'the console tests in a real browser (test/web)' },
    { packages: PACKAGES.unzip, present: () => Boolean(findExecutable('unzip')), neededBy: 'checking the console\'s folder .zip with Info-ZIP (web/src/lib/zip.test.ts, test/web/files.test.ts)' },
    { packages: PACKAGES.tmux, present: () => Boolean(findExecutable('tmux')), neededBy: 'driving `ninjait shell` in a real terminal (test/e2e/shell-tmux.test.ts)' },
    { packages: PACKAGES.pgbouncer, present: () => Boolean(findExecutable('pgbouncer')), neededBy: 'the PgBouncer transaction-mode test (test/engines/pgbouncer.test.ts)' },
    ...(options.msi
      ? [{ packages: PACKAGES.msi, present: () => Boolean(findExecutable('wixl') && findExecutable('msiinfo')), neededBy: 'the msi phase (installers/windows/check-msi.sh)' }]
      : []),
    ...(options.installers
      ? [
          { packages: PACKAGES.rpm, present: () => Boolean(findExecutable('rpmbuild')), neededBy: 'the installers test (.rpm build)' },
          { packages: PACKAGES.dockerCompose, present: () => Boolean(findExecutable('docker-compose')), neededBy: 'the installers test (docker-compose.yml check)' },
          { packages: PACKAGES.xmllint, present: () => Boolean(findExecutable('xmllint')), neededBy: 'the installers test (installer XML checks)' },
        ]
      : []),
  ];
}

const APT = ['-o', 'DPkg::Lock::Timeout=600'];
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const APT_TIMEOUT_MS = 15 * 60_000;

/** Whether this process may install Debian packages: root, with apt-get. */
export function canInstall(): boolean {
  return process.getuid?.() === 0 && Boolean(findExecutable('apt-get'));
}

/**
 * Installs the missing packages from Debian in one go (then one by one if that fails, so one
 * unavailable package costs only its own tests). Returns what is still missing afterwards.
 */
export async function installMissing(wanted: Wanted[]): Promise<Wanted[]> {
  const missing = wanted.filter((want) => !want.present());
  if (missing.length === 0) return [];
  const packages = missing.flatMap((want) => want.packages);
  say(`installing from Debian: ${packages.join(' ')}`);
  const update = await capture('apt-get', [...APT, 'update', '-qq'], { env: APT_ENV, timeoutMs: APT_TIMEOUT_MS });
  if (update.code !== 0) say(`apt-get update failed (${update.code}): ${lastLines(update.stderr)}`);
  const install = (names: string[]) =>
    capture('apt-get', [...APT, 'install', '-y', '-qq', '--no-install-recommends', ...names], { env: APT_ENV, timeoutMs: APT_TIMEOUT_MS });
  const all = await install(packages);
  if (all.code !== 0) {
    for (const want of missing) {
      const one = await install(want.packages);
      if (one.code !== 0) say(`could not install ${want.packages.join(' ')}: ${lastLines(one.stderr || one.stdout)}`);
    }
  }
  return missing.filter((want) => !want.present());
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' / ');
