// Google's "this and following events" ends a series and starts a new one whose id has been the
// old one's with `_R<original start of the first moved occurrence>` appended (odoo/odoo PR 287171,
// google-api-php-client issue 2009). The API gives that id bare (`<id>_R20261203T090000`); a
// feed Google publishes gives it as the event's UID, with the domain after it
// (`<id>_R20191106T234500@google.com`, derekantrican/GAS-ICS-Sync issue 81; pimutils/khal issue
// 945 shows the same UIDs in Google's invitations), the old series' UID being `<id>@google.com`.
// Since Q3 2026 Google makes the ids of instances in recurring events in a new format and asks
// that they be treated as opaque (its notice, quoted in phw198/OutlookGoogleCalendarSync issue
// 2205): the `_R` id is a fast path for the series split before, and for feeds that still show
// it, not something to count on. The rule that needs no id shape is pickInstanceContinuation
// below, fed for a series row by its cut (series-cut.ts).

import { usualSpacingMs } from './series-move.ts';

export interface SplitId {
  /** The provider id of the series the split came from. */
  baseId: string;
  /** The `_R` time: the original start of the first occurrence the continuation took over (UTC). */
  splitMs: number;
}

/** The series a split continuation's provider id comes from, or null when the id is not one. */
export function parseSplitId(providerId: string): SplitId | null {
  const match = /^(.+)_R(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z?(@[^@]+)?$/.exec(providerId);
  if (!match) return null;
  const [, stem, year, month, day, hour, minute, second, domain] = match;
  const splitMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (Number.isNaN(splitMs)) return null;
  return { baseId: `${stem}${domain ?? ''}`, splitMs };
}

/**
 * How the ids of a series' continuations begin and end: `<id>_R…`, or for a UID with a domain
 * (`<stem>@<domain>`), `<stem>_R…@<domain>`.
 */
export function continuationIdAffixes(providerId: string): { prefix: string; suffix: string } {
  const at = providerId.lastIndexOf('@');
  return at > 0 ? { prefix: `${providerId.slice(0, at)}_R`, suffix: providerId.slice(at) } : { prefix: `${providerId}_R`, suffix: '' };
}

// Outlook's "this and following events" ends the series and creates another one from the edited
// occurrence on (what odoo/odoo PR 260329 describes as truncating the original and creating a
// new one); nothing in the new series names the old one (OfficeDev/office-js issue 1571: the new
// items carry no id of the original series). Graph then brings, in one round, the old series
// without its later instances and the new series' instances, all with new ids.

/** What the rule reads of a series of instances. */
export interface InstanceSeriesTraits {
  seriesId: string;
  /** Starts of its instances (those the round lost, for the old series). */
  startsMs: readonly number[];
  /** The old series: starts of the instances it keeps. */
  keptStartsMs?: readonly number[];
  meetingIdentity: string | null;
  title: string | null;
  organizer: string | null;
  /** The iCalendar UID the provider gives the series, where it gives one that can name another (Google, a feed). */
  icalUid?: string | null;
}

/**
 * Of the series that appeared whole in the round that lost `lost`'s later instances, the one that
 * continues it. Only a series that lost its tail (it keeps no instance from the first lost one
 * on) was split; one that lost an occurrence in its middle only lost that occurrence. The
 * continuation is the same meeting (the same meeting identity), or, where the link changed, the
 * same title and organizer, or its UID is one of the old UID's continuations (a split that changed
 * both the link and the title); and its first instance lies within half the old series' spacing
 * of the first lost one; the nearest such. Null when none qualifies. Outlook's instances and
 * Google's (or a feed's) series rows, whose lost occurrences come from series-cut.ts, alike.
 */
export function pickInstanceContinuation(lost: InstanceSeriesTraits, appeared: readonly InstanceSeriesTraits[], spacingMs: number | null): string | null {
  if (spacingMs === null || lost.startsMs.length === 0) return null;
  const firstLost = Math.min(...lost.startsMs);
  if ((lost.keptStartsMs ?? []).some((start) => start >= firstLost)) return null;
  let best: { seriesId: string; distance: number } | null = null;
  for (const other of appeared) {
    if (other.seriesId === lost.seriesId || other.startsMs.length === 0 || !isSameMeeting(lost, other)) continue;
    const first = Math.min(...other.startsMs);
    const distance = Math.abs(first - firstLost);
    if (distance >= spacingMs / 2) continue;
    if (best === null || distance < best.distance || (distance === best.distance && other.seriesId < best.seriesId)) best = { seriesId: other.seriesId, distance };
  }
  return best?.seriesId ?? null;
}

/**
 * `b` may continue `a`: the same meeting identity, or (where the link changed) the same title and
 * organizer, or a UID of `b` that continuationIdAffixes names as one of `a`'s.
 */
function isSameMeeting(a: InstanceSeriesTraits, b: InstanceSeriesTraits): boolean {
  return (a.meetingIdentity !== null && b.meetingIdentity === a.meetingIdentity)
    || (a.title !== null && a.organizer !== null && b.title === a.title && b.organizer === a.organizer)
    || isContinuationUid(a.icalUid ?? null, b.icalUid ?? null);
}

function isContinuationUid(uid: string | null, other: string | null): boolean {
  if (uid === null || other === null) return false;
  const { prefix, suffix } = continuationIdAffixes(uid);
  return other.length > prefix.length + suffix.length && other.startsWith(prefix) && other.endsWith(suffix);
}

/**
 * A split from a series' next occurrence leaves the old series nothing inside the sync window,
 * and Graph does not always send its master again then, so a round can bring the new series
 * without the old one losing anything. Of the stored series the round did not bring (`stored`:
 * their stored instances from now on), those to look up at Graph: a series that could be
 * the one a series new in the round (`appeared`) continues, by the rule of
 * pickInstanceContinuation: the same meeting, with a stored instance within half its spacing of
 * the new series' first instance (any instance when its spacing is unknown). The lookup decides
 * nothing; the round then reads as if the old master had come.
 */
export function seriesToRecheck(appeared: readonly InstanceSeriesTraits[], stored: readonly InstanceSeriesTraits[]): string[] {
  const wanted: string[] = [];
  for (const old of stored) {
    const spacing = usualSpacingMs(old.startsMs);
    const isCandidate = appeared.some((series) => {
      if (series.seriesId === old.seriesId || series.startsMs.length === 0 || !isSameMeeting(old, series)) return false;
      const first = Math.min(...series.startsMs);
      return spacing === null || old.startsMs.some((start) => Math.abs(start - first) < spacing / 2);
    });
    if (isCandidate && old.startsMs.length > 0) wanted.push(old.seriesId);
  }
  return wanted;
}

/**
 * Whether a series' rule (one RRULE line, as its master's recurrence maps to) now ends earlier
 * than it did (`before`): a smaller COUNT, an earlier UNTIL, or an end where there was none.
 * Outlook's "this and following events" moves the old series' recurrence range end before the
 * edited occurrence; cancelling an occurrence leaves the range as it was (Graph lists the
 * occurrence in the master's cancelledOccurrences: learn.microsoft.com/en-us/graph/api/resources/
 * event), so an instance gone with the rule unchanged
 * was cancelled, not cut off. False when either rule is unknown.
 */
export function isRangeCut(before: string | null | undefined, after: string | null | undefined): boolean {
  if (!before || !after) return false;
  const was = rangeOf(before);
  const now = rangeOf(after);
  if (now.count !== null) return was.count === null || now.count < was.count;
  if (now.until !== null) return was.until === null || now.until < was.until;
  return false;
}

/** A rule's COUNT and its UNTIL as a sortable text (YYYYMMDDTHHMMSS; a date alone its midnight), or null. */
function rangeOf(rule: string): { count: number | null; until: string | null } {
  const count = /[:;]COUNT=(\d+)/i.exec(rule)?.[1];
  const until = /[:;]UNTIL=(\d{8})(T\d{6})?/i.exec(rule);
  return { count: count === undefined ? null : Number(count), until: until ? `${until[1]}${until[2]?.toUpperCase() ?? 'T000000'}` : null };
}
