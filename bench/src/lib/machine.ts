import { cpus, totalmem, release, platform, arch } from 'node:os';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** What the figures were measured on: they mean little without it. */
export function machineInfo() {
  const list = cpus();
  let distro: string | null = null;
  try {
    distro = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null;
  } catch {
    // Not Linux: the kernel release is enough.
  }
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    distro,
  };
}

const PACKAGES = [
  '@ninjait/server/package.json', '@ninjait/shared/package.json', '@ninjait/agent/package.json',
  '@trpc/server/package.json', '@trpc/client/package.json', 'ws/package.json', 'zod/package.json',
  '@electric-sql/pglite/package.json', 'pg/package.json', 'ioredis/package.json', 'better-sqlite3/package.json',
];

/** Installed versions of the packages on the measured paths. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of PACKAGES) {
    try {
      const pkg = require(spec) as { name: string; version: string };
      out[pkg.name] = pkg.version;
    } catch {
      // Not installed (e.g. the agent workspace without native deps): leave it out.
    }
  }
  return out;
}
