/**
 * Runs `work` on every item with at most `limit` in flight, and settles like `Promise.all` (the
 * first failure rejects, after every started call has ended). The security matrices call a few
 * thousand procedures: all at once, a loaded machine answers some with ECONNRESET, which says
 * nothing about authorization and hid what the test is for.
 */
export async function eachLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}
