/** What every store reports to /readyz and the admin health procedure. */
export type StoreHealth =
  | { ok: true; engine: string; latencyMs: number }
  | { ok: false; engine: string; error: string };

/** Driver failures sorted by what the caller can do about them. */
export type StoreErrorKind = 'conn' | 'timeout' | 'constraint' | 'other';
