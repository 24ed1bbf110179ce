// Runs some work on a group of items; when it fails for a reason that may belong to one item (a
// constraint, a bug), the group is split in halves and each half run on its own, down to single
// items, so that one bad item does not hold back the others. An error that `stops` says is not an
// item's own (the database went away) ends the whole run: nothing else is tried.
// Used by the dispatcher for the due-instant decisions and for the launch results.

export interface ApartOutcome<T, R> {
  /** The groups the work succeeded on, with its results. */
  done: { items: T[]; result: R }[];
  /** Items the work failed on alone, with their errors. */
  failed: { item: T; error: unknown }[];
  /** When an error stopped the run: it, and the items not done (those it failed on included). */
  stopped?: { error: unknown; items: T[] };
}

export async function runApart<T, R>(items: readonly T[], work: (group: T[]) => Promise<R>, stops: (error: unknown) => boolean): Promise<ApartOutcome<T, R>> {
  const outcome: ApartOutcome<T, R> = { done: [], failed: [] };
  /** Answers whether the run may go on. */
  const run = async (group: T[]): Promise<boolean> => {
    try {
      outcome.done.push({ items: group, result: await work(group) });
      return true;
    } catch (error) {
      if (stops(error)) {
        outcome.stopped = { error, items: [...group] };
        return false;
      }
      if (group.length === 1) {
        outcome.failed.push({ item: group[0]!, error });
        return true;
      }
      const half = Math.ceil(group.length / 2);
      if (await run(group.slice(0, half))) return run(group.slice(half));
      outcome.stopped!.items.push(...group.slice(half));
      return false;
    }
  };
  if (items.length > 0) await run([...items]);
  return outcome;
}
