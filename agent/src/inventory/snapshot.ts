import { createHash } from 'node:crypto';
import type { InventoryReport } from '@ninjait/shared';
import type { SoftwareSnapshot } from './collect.ts';

type Keyed = { key: string };

/** Items by key; a repeated key keeps the first (two views of one registry entry). */
function byKey<T extends Keyed>(items: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) if (!map.has(item.key)) map.set(item.key, item);
  return map;
}

/** The snapshot in a canonical form: sorted by key, so equal content hashes equal. */
export function canonical(snapshot: SoftwareSnapshot): SoftwareSnapshot {
  const sort = <T extends Keyed>(items: readonly T[]) => [...byKey(items).values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { ...snapshot, software: sort(snapshot.software), services: sort(snapshot.services), updates: sort(snapshot.updates) };
}

export function snapshotHash(snapshot: SoftwareSnapshot): string {
  const { software, services, updates, rebootPending, lastPatchedAtMs } = canonical(snapshot);
  return createHash('sha256').update(JSON.stringify([software, services, updates, rebootPending, lastPatchedAtMs])).digest('hex');
}

function section<T extends Keyed>(before: readonly T[] | null, after: readonly T[]) {
  if (!before) return { upsert: [...after], remove: [] };
  const old = byKey(before);
  const now = byKey(after);
  const upsert = [...now.values()].filter((item) => JSON.stringify(old.get(item.key)) !== JSON.stringify(item));
  const remove = [...old.keys()].filter((key) => !now.has(key));
  return { upsert, remove };
}

/**
 * The report that takes the server from `base` (the snapshot it acked, with its hash) to `next`:
 * everything when there is no base, otherwise only what was added, changed or removed.
 */
export function buildReport(base: { snapshot: SoftwareSnapshot; hash: string } | null, next: SoftwareSnapshot, nowMs: number): InventoryReport {
  const current = canonical(next);
  return {
    baseHash: base?.hash ?? null,
    hash: snapshotHash(current),
    software: section(base?.snapshot.software ?? null, current.software),
    services: section(base?.snapshot.services ?? null, current.services),
    updates: section(base?.snapshot.updates ?? null, current.updates),
    rebootPending: current.rebootPending,
    lastPatchedAtMs: current.lastPatchedAtMs === null ? null : Math.round(current.lastPatchedAtMs),
    collectedAtMs: nowMs,
  };
}
