// A promise's outcome, or a stand-in once a deadline has passed: for work that may hang (a
// resolver, a database, a peer that does not close) where the caller must go on in bounded time.
// The work itself is not cancelled; the timer is cleared whichever comes first.

/** Resolves as `work` does, or with `late` after `ms` if `work` has not settled by then. */
export async function settledWithin<T>(work: Promise<T>, ms: number, late: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
