/** What every store reports to /readyz and the admin health procedure. */
export type StoreHealth =
  | { ok: true; engine: string; latencyMs: number }
  | { ok: false; engine: string; error: string };

/** Driver failures sorted by what the caller can do about them. */
export type StoreErrorKind = 'conn' | 'timeout' | 'constraint' | 'other';

/** Times `probe` and reports it as a store's health; a failure is a value, not an exception. */
export async function probeHealth(engine: string, probe: () => Promise<unknown>): Promise<StoreHealth> {
  const started = performance.now();
  try {
    await probe();
    return { ok: true, engine, latencyMs: performance.now() - started };
  } catch (error) {
    return { ok: false, engine, error: (error as Error).message };
  }
}
