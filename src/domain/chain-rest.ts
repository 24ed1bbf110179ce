// When a chain (chain mode, spec section 8) that found nothing to book looks at its series again.
// A series whose rule has run out (COUNT or UNTIL) and has no occurrence left to come, moved
// there or not, can only go on if the series is changed (its rule extended, an occurrence moved
// or added), and every change of a series makes its chain due at once (listDueChains). Such a
// chain rests: it is looked at again only after CHAIN_REST_RECHECK_MS (a day) instead of every
// hour; so does the chain of a series called off (cancelled, or its rule removed), which only a
// change brings back, and that of an Outlook series whose instances left that have not ended are
// all behind the chain (before where it was started, behind its place and not moved there, or
// weeks it served): time moves no instance, and an instance added or moved (the sync window
// reaching a later week among them) is a change of the series. The rest is finite because a change can be missed: listDueChains compares
// the change's stamp (the writing transaction's clock, read before its commit, on an instance
// whose clock may differ) with the chain's last look, and a long sync transaction can stamp a
// change more than its grace before a look that it commits after. The day's recheck books it
// then. A series with an occurrence still to come that cannot be booked now (all cancelled
// within reach, no meeting link, a key taken) is looked at again after `recheckMs`: time alone
// may make one bookable. While its booked bot waits, a chain is looked at only when its series
// changes, and once a minute while an occurrence it passed waits for a key another meeting's bot
// holds: that bot being cancelled or ending frees the key and changes nothing in the series.

/** How long a chain whose series is over rests before it looks again, the series unchanged (a day). */
export const CHAIN_REST_RECHECK_MS = 86_400_000;

/**
 * Whether a series has ended for good: its rule's last occurrence is over (`seriesEndMs`, null for
 * a rule without end, or one not known) and none of its occurrences, moved ones included, is
 * still to come or under way.
 */
export function isSeriesOver(series: { seriesEndMs: number | null; hasOccurrenceAhead: boolean }, nowMs: number): boolean {
  return !series.hasOccurrenceAhead && series.seriesEndMs !== null && series.seriesEndMs <= nowMs;
}

/**
 * Whether an Outlook series (synced as instances, no series row: instance-series.ts) has ended
 * for good: the rule its newest instance carries (series_rule, one RRULE line) has an end (COUNT
 * or UNTIL; an UNTIL still to come is not over), and every instance synced has ended. Only the
 * sync window's instances are known: a later one of a sparse series is a new instance when the
 * window reaches it, a change of the series that makes its chain due at once.
 */
export function isInstanceSeriesOver(series: { rule: string | null; lastInstanceEndMs: number | null }, nowMs: number): boolean {
  if (series.rule === null || series.lastInstanceEndMs === null || series.lastInstanceEndMs > nowMs) return false;
  if (/(?:^|[:;])COUNT=/i.test(series.rule)) return true;
  const until = /(?:^|[:;])UNTIL=(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?(?:;|$)/i.exec(series.rule);
  if (!until) return false;
  const [, y, mo, d, h, mi, se] = until.map(Number) as number[];
  // A date-only UNTIL (all-day series) ends with its day wherever it is read: its last hours at UTC-12.
  const untilMs = until[4] === undefined ? Date.UTC(y!, mo! - 1, d! + 1, 12) : Date.UTC(y!, mo! - 1, d!, h, mi, se);
  return Number.isFinite(untilMs) && untilMs <= nowMs;
}

/** When a chain with nothing to book now looks again: a day later once its series is over, else after `recheckMs`. */
export function nextChainCheckMs(isOver: boolean, nowMs: number, recheckMs: number): number {
  return nowMs + (isOver ? CHAIN_REST_RECHECK_MS : recheckMs);
}

/**
 * Whether an occurrence the chain could not book (the error's code) may become bookable with no
 * change of its series: its key is held by a bot of another meeting (deduplication_conflict),
 * which the client may cancel or which may end. A missing or refused meeting link comes back
 * only through a calendar change, which makes the chain due anyway.
 */
export function mayClearWithoutSeriesChange(code: string): boolean {
  return code === 'deduplication_conflict';
}
