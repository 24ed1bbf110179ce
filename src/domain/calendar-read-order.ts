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
export function readingOrder<C extends { read_failures: number; left_unread_at?: number | null }>(calendars: readonly C[], failedSyncs: number): C[] {
  const order = byFailures(calendars, failedSyncs);
  // A sync that meets a limit without failing reads no further calendar (calendar-sync.ts): those
  // it left unread go first, those left longest first (the others in the order above), so that a
  // calendar whose reads keep meeting limits does not keep the rest unread. A calendar loses its
  // mark once a sync asks for it, whatever comes of it (a failure, an outage that stops the sync):
  // a mark puts it first once, and marked calendars that keep failing do not keep the rotation
  // above from a calendar that works. A sync that asks for any calendar asks for the first
  // unmarked one of the longest marked, and new marks are later than those standing: each
  // calendar left unread is asked for first within as many such syncs as the account has
  // calendars.
  const left = order.filter((c) => c.left_unread_at != null).sort((a, b) => a.left_unread_at! - b.left_unread_at!);
  return [...left, ...order.filter((c) => c.left_unread_at == null)];
}

function byFailures<C extends { read_failures: number }>(calendars: readonly C[], failedSyncs: number): C[] {
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
 * calendar. At each turn the first calendar, in the order read, none of whose leaving meetings
 * arrives in a calendar still to write goes next (one meeting moved from A to B and another from B
 * to C write C, B, A); moves that go round in a cycle keep the order read.
 */
export function arrivalsFirst(calendars: readonly { leaving: ReadonlySet<string>; arriving: ReadonlySet<string> }[]): number[] {
  const left = calendars.map((_, i) => i);
  const order: number[] = [];
  const waitsFor = (i: number) => left.some((j) => j !== i && [...calendars[i]!.leaving].some((meeting) => calendars[j]!.arriving.has(meeting)));
  while (left.length > 0) {
    const free = left.findIndex((i) => !waitsFor(i));
    order.push(left.splice(free < 0 ? 0 : free, 1)[0]!);
  }
  return order;
}
