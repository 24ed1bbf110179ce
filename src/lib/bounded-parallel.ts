// Runs async work over a list with at most `limit` items in flight at once, answers in input order.
//
// Written here rather than taken from a package: the project depends on no concurrency library
// (p-limit, p-map and the like are not among its dependencies), and what it needs is a dozen lines
// with one rule of its own that those libraries do not have by default: once one item fails, no
// further item is started (a provider that answered 429 asks for no more requests, not for the
// rest of a batch to be sent anyway), the items already running are waited for, and the first
// failure is thrown.

export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
