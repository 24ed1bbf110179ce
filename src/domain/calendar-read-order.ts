// In which order a sync reads the calendars of one account (calendar-sync.ts, #readCalendars).

/**
 * The order a sync reads an account's calendars in: those that failed on their own last time at
 * the end, so that one that keeps failing is met once the others have read (and fails on its own
 * rather than stopping the sync). The others start one further along after each failed sync in a
 * row (`failedSyncs`): a sync that stops at the two calendars it tried first (two server errors
 * before any read look like an outage) tries others first next time, so that calendars that work
 * are reached within as many syncs as there are calendars, whichever ones keep failing.
 */
export function readingOrder<C extends { read_failures: number }>(calendars: readonly C[], failedSyncs: number): C[] {
  const failedOnTheirOwn = calendars.filter((c) => c.read_failures > 0);
  const others = calendars.filter((c) => c.read_failures === 0);
  const start = others.length === 0 ? 0 : failedSyncs % others.length;
  return [...others.slice(start), ...others.slice(0, start), ...failedOnTheirOwn];
}
