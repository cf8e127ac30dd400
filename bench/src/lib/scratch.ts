import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What a run made and must not leave behind when it is interrupted (Ctrl-C, SIGTERM): its
 * temporary folders and scratch databases. Each benchmark still removes its own as it ends; this
 * registry is for the ones an interruption leaves, removed by `removeScratch` before the process exits.
 */
const dirs = new Set<string>();
const databases = new Set<() => Promise<void>>();

/** A fresh folder under the system's temporary folder, removed at the latest when the run is interrupted. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Registers a scratch database's drop for an interruption; returns the drop, which unregisters it. */
export function scratchDatabaseDrop(drop: () => Promise<void>): () => Promise<void> {
  const once = async () => {
    databases.delete(once);
    await drop();
  };
  databases.add(once);
  return once;
}

/** Drops what is registered (each drop waits at most `timeoutMs`) and removes the folders; never throws. */
export async function removeScratch(timeoutMs = 10_000): Promise<{ dirs: number; databases: number }> {
  const drops = [...databases];
  await Promise.all(drops.map((drop) => Promise.race([
    drop().catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
  ])));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  const removed = { dirs: dirs.size, databases: drops.length };
  dirs.clear();
  return removed;
}
