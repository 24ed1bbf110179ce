// One occurrence of a series is addressed as `<series id>_<original start in UTC basic format>`,
// the way Google names instances, so that it can be fetched and scheduled like any event.
import { occurrenceKey, parseOccurrenceKey } from './recurrence.ts';

const OCCURRENCE_SUFFIX = /_(\d{8}T\d{6}(?:\.\d{3})?Z)$/;

export function occurrenceIdOf(seriesId: string, originalStartMs: number): string {
  return `${seriesId}_${occurrenceKey(originalStartMs)}`;
}

/** Splits an occurrence id; null for an id that does not name an occurrence. */
export function parseOccurrenceId(id: string): { seriesId: string; key: string; originalStartMs: number } | null {
  const match = OCCURRENCE_SUFFIX.exec(id);
  if (!match) return null;
  const originalStartMs = parseOccurrenceKey(match[1]!);
  if (originalStartMs === null) return null;
  return { seriesId: id.slice(0, match.index), key: match[1]!, originalStartMs };
}
