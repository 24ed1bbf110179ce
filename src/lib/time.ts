// Parsing and printing of API times. Input must carry an offset; output is UTC with Z.

const DATE_TIME_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch ms of an ISO 8601 date-time with offset, or null when malformed or without offset. */
export function parseInstant(value: string): number | null {
  const match = DATE_TIME_WITH_OFFSET.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  if (!isRealDate(Number(y), Number(mo), Number(d)) || Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return null;
  const offset = match[8]!.toUpperCase();
  if (offset !== 'Z' && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4, 6)) > 59)) return null;
  const ms = Date.parse(value.toUpperCase());
  return Number.isFinite(ms) ? ms : null;
}

/**
 * parseInstant for a value read from a query string. A client that builds its URL by pasting
 * `2026-12-01T09:00:00+00:00` in, unencoded, sends a `+`, which form decoding turns into a space:
 * a space where the offset's sign belongs is read as the `+` it was (nothing else puts one there).
 */
export function parseQueryInstant(value: string): number | null {
  return parseInstant(value.replace(/(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?) (\d{2}:\d{2})$/i, '$1+$2'));
}

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  const match = DATE_ONLY.exec(value);
  return match !== null && isRealDate(Number(match[1]), Number(match[2]), Number(match[3]));
}

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

export function formatInstant(ms: number): string {
  return new Date(ms).toISOString();
}

export function formatOptionalInstant(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : formatInstant(ms);
}
