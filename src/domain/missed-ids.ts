// The ids a calendar's reads listed live that the provider did not find
// (connected_calendars.missed_ids). Graph answers 404 at times for an event it has just listed
// (msgraph-sdk-java issue 1225), and such a 404 can last: about two weeks for a series master in
// msgraph-sdk-dotnet issue 2398. The first miss of an id fails the read, which is tried again;
// an id kept here is known as missed before, and the next read that lists it lets the listed
// copy stand (or looks a missing master's occurrences up one by one) instead of failing again.
//
// An id stays kept until a read finds it (or settles it as gone), or until MISSED_ID_KEEP_MS has
// passed since a read last missed it: a lasting miss is missed again at each new round of the
// window that lists it (a new round starts at least once a day as the window moves on), which
// keeps it; an id no round lists any more (deleted) goes by itself. At most MAX_MISSED_IDS, the
// ones missed last kept: one dropped past that only fails a read once more.

import { storedListEntries } from './stored-list.ts';

/** How long an id is kept after the last read that did not find it. */
export const MISSED_ID_KEEP_MS = 7 * 86_400_000;
/** Ids kept at most per calendar (a Graph id is about 150 characters). */
export const MAX_MISSED_IDS = 100;

export interface MissedId {
  id: string;
  /** Dropped at this time unless a read misses it again before. */
  untilMs: number;
}

/**
 * The stored list (JSON), those not expired at `nowMs`. Reads the first form too, a bare array of
 * ids (kept for MISSED_ID_KEEP_MS from now); anything else reads as none.
 */
export function parseMissedIds(text: string | null, nowMs: number): MissedId[] {
  const kept: MissedId[] = [];
  for (const entry of storedListEntries(text)) {
    if (typeof entry === 'string') {
      if (entry !== '') kept.push({ id: entry, untilMs: nowMs + MISSED_ID_KEEP_MS });
      continue;
    }
    const { id, untilMs } = (entry ?? {}) as Partial<Record<keyof MissedId, unknown>>;
    if (typeof id === 'string' && id !== '' && typeof untilMs === 'number' && Number.isFinite(untilMs)) kept.push({ id, untilMs });
  }
  return kept.filter((m) => m.untilMs > nowMs);
}

/**
 * The list after a read: `missed` (ids it did not find) kept for MISSED_ID_KEEP_MS from now,
 * `found` (ids it found, or settled as gone) dropped, every other id kept as it was; expired ones
 * dropped, and the MAX_MISSED_IDS kept longest left. As stored: JSON, or null when empty.
 */
export function missedIdsAfter(previous: readonly MissedId[], read: { missed: readonly string[]; found: readonly string[] }, nowMs: number): string | null {
  const byId = new Map<string, number>();
  for (const m of previous) if (m.untilMs > nowMs) byId.set(m.id, Math.max(m.untilMs, byId.get(m.id) ?? 0));
  for (const id of read.found) byId.delete(id);
  for (const id of read.missed) byId.set(id, nowMs + MISSED_ID_KEEP_MS);
  const kept = [...byId].map(([id, untilMs]) => ({ id, untilMs })).sort((a, b) => b.untilMs - a.untilMs).slice(0, MAX_MISSED_IDS);
  return kept.length === 0 ? null : JSON.stringify(kept);
}
