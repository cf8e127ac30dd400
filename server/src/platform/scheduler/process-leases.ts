import type { JobLeases } from './scheduler.ts';

/**
 * Leases kept in this process's memory, for a server whose relational store is embedded
 * (PGlite): only one process can open it, and WORKERS > 1 is refused without PostgreSQL, so no
 * other instance can share a job. In `job_leases` each exclusive run cost such a server two
 * statements, about six a second at idle, every one of them PostgreSQL's work done in WASM on the
 * event loop.
 */
export function createProcessLeases(now: () => number = Date.now): JobLeases {
  const leases = new Map<string, { owner: string; untilMs: number }>();
  return {
    async acquire(name, owner, leaseMs) {
      const held = leases.get(name);
      if (held && held.owner !== owner && held.untilMs > now()) return false;
      leases.set(name, { owner, untilMs: now() + leaseMs });
      return true;
    },
    async release(name, owner) {
      if (leases.get(name)?.owner === owner) leases.delete(name);
    },
  };
}
