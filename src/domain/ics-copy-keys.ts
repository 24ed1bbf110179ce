// Keys of the events an iCalendar feed writes under one UID without RECURRENCE-ID
// (docs/providers/ics-feeds.md, "One UID, several events"). A UID written once is keyed by the
// UID; each of several copies at different starts by the UID and its start, `UID#<start in UTC>`
// (a series that is the only one among them keeps the UID). A copy therefore changes key between
// the two forms when another copy of its UID appears or goes, while it stays the same meeting.
import { occurrenceKey } from './recurrence.ts';

/** A key ending in a start in UTC, as copyKey writes it. */
const KEYED_BY_START = /#\d{8}T\d{6}Z$/;

/** The key of one of several copies of `uid`: the UID and the copy's start. */
export function copyKey(uid: string, startMs: number): string {
  return `${uid}#${occurrenceKey(startMs)}`;
}

/**
 * The key the copy keyed `key`, starting at `startMs`, had (or will have) in the other form: the
 * plain UID for `UID#<that start>`, and `UID#<that start>` for a plain UID. A key ending in
 * another start has no other form (null): the copy is keyed by a start that is not its own.
 */
export function otherFormOfCopyKey(key: string, startMs: number): string | null {
  const suffix = `#${occurrenceKey(startMs)}`;
  if (key.endsWith(suffix)) return key.length > suffix.length ? key.slice(0, -suffix.length) : null;
  return KEYED_BY_START.test(key) ? null : `${key}${suffix}`;
}
