// An occurrence's key: its original start in UTC, basic format. Free of the recurrence library, so
// that the dashboard reads keys by the same rule the server writes them with.

/** Generation never goes past the last instant occurrence keys can express (year 9999). */
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Earliest instant accepted for a series start; keeps Temporal and the key format in range. */
export const MIN_INSTANT_MS = -62_167_219_200_000; // 0000-01-01T00:00:00Z

/**
 * Compact UTC basic format of an original start, e.g. '20261124T140000Z'. A start with a
 * millisecond part keeps it ('20261124T140000.250Z') so that keys stay unique and reversible.
 */
export function occurrenceKey(originalStartMs: number): string {
  if (!Number.isInteger(originalStartMs) || originalStartMs < MIN_INSTANT_MS || originalStartMs > MAX_INSTANT_MS) {
    throw new RangeError(`occurrenceKey: ${originalStartMs} is not an integer epoch millisecond in years 0000-9999`);
  }
  const iso = new Date(originalStartMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ in this range
  const basic = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  const millis = iso.slice(20, 23);
  return millis === '000' ? `${basic}Z` : `${basic}.${millis}Z`;
}

/** Inverse of occurrenceKey; null for anything occurrenceKey would not have produced. */
export function parseOccurrenceKey(key: string): number | null {
  if (typeof key !== 'string') return null;
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{3}))?Z$/.exec(key);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, ms] = match;
  const ms0 = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms ?? '000'}Z`);
  if (!Number.isFinite(ms0)) return null;
  // Round-tripping rejects impossible fields (Feb 30, 24:00) and non-canonical spellings ('.000').
  return occurrenceKey(ms0) === key ? ms0 : null;
}
