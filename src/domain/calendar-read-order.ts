// In which order a sync reads the calendars of one account (calendar-sync.ts, #readCalendars).

/**
 * The order a sync reads an account's calendars in. Those that failed on their own last time go
 * at the end, so that one that keeps failing is met once the others have read (and fails on its
 * own rather than stopping the sync). After each failed sync in a row (`failedSyncs`) the others
 * start one further along, and once a round one of those that failed on their own goes first
 * instead (each in turn: it may read again while others fail). A sync stops at two server errors
 * before any read (they look like an outage), so this is what reaches a calendar that works,
 * whichever ones keep failing: every calendar comes first within (others + 1) x (failed on their
 * own, at least 1) failed syncs in a row.
 */
export function readingOrder<C extends { read_failures: number }>(calendars: readonly C[], failedSyncs: number): C[] {
  const failedOnTheirOwn = calendars.filter((c) => c.read_failures > 0);
  const others = calendars.filter((c) => c.read_failures === 0);
  const round = others.length + 1;
  const turn = failedSyncs % round;
  if (turn === others.length && failedOnTheirOwn.length > 0) {
    const [first, ...rest] = rotated(failedOnTheirOwn, Math.floor(failedSyncs / round));
    return [first!, ...others, ...rest];
  }
  return [...rotated(others, turn), ...failedOnTheirOwn];
}

function rotated<C>(list: readonly C[], by: number): C[] {
  if (list.length === 0) return [];
  const start = by % list.length;
  return [...list.slice(start), ...list.slice(0, start)];
}

/**
 * The order a sync writes what it read of an account's calendars in (calendar-moves.ts): a
 * calendar a meeting arrives in goes before the calendar that meeting leaves, so that the bots of
 * the event leaving find the event arriving and follow it rather than being cancelled. Each entry
 * gives the meetings (any key that tells them apart: times, say) leaving and arriving in one
 * calendar. Calendars others' meetings arrive in come first; the rest keep their order. A meeting
 * moved both ways in one sync (a cycle) keeps the order read.
 */
export function arrivalsFirst(calendars: readonly { leaving: ReadonlySet<string>; arriving: ReadonlySet<string> }[]): number[] {
  const isDestination = calendars.map((calendar, i) => [...calendar.arriving].some((meeting) => calendars.some((other, j) => j !== i && other.leaving.has(meeting))));
  const order = calendars.map((_, i) => i);
  return [...order.filter((i) => isDestination[i]), ...order.filter((i) => !isDestination[i])];
}
