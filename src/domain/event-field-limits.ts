// The limits a stored event's fields obey, whoever wrote it: the API refuses a longer field (its
// route schema, src/http/schemas/event-schemas.ts, has the same numbers), and a calendar
// provider's event is cut to fit here before it is stored, so that one hostile or broken feed
// cannot store megabytes per event or make every later read of it slow.
//
// How a cut shows (docs/ics-parsing.md, "Field limits"):
// - A text field over its limit keeps its first (limit - 1) characters and ends with CUT_MARKER,
//   so it is exactly the limit long; its name is listed in raw._rollcall.cut_fields.
// - A meeting URL over its limit is dropped (a cut URL would open the wrong meeting); listed the same.
// - Recurrence lines are regrouped losslessly first (EXDATE/RDATE values of the same kind on
//   as few lines of at most 2,000 characters as they fit); only if that is still over 100 lines
//   are the oldest EXDATE/RDATE values dropped, then `recurrence` is listed as cut.
// - raw (the provider's payload, stored as JSON) is kept under RAW_LIMIT_BYTES: its largest
//   top-level fields are dropped first until it fits, and named in raw._rollcall.dropped_raw_fields
//   (the first 50, with dropped_raw_field_count when there were more).
//
// Lengths are counted in Unicode code points, as the API's JSON schema counts them (a cut never
// splits a surrogate pair); raw is counted in UTF-8 bytes, as it is stored.

export const EVENT_FIELD_LIMITS = Object.freeze({
  title: 1024,
  description: 100_000,
  location: 4096,
  meetingUrl: 4096,
  recurrenceLines: 100,
  recurrenceLineChars: 2000,
});

/** Most UTF-8 bytes of a stored raw payload. */
export const RAW_LIMIT_BYTES = 64 * 1024;

/** Ends a text field that was cut. */
export const CUT_MARKER = '…';

/** The key under which raw records what was cut; providers never use a leading underscore. */
export const LIMITS_RAW_KEY = '_rollcall';

/** A provider event's fields that are stored as columns, as the provider gave them. */
export interface ProviderFields {
  title: string | null;
  description: string | null;
  location: string | null;
  conferenceUrl: string | null;
  recurrence: string[] | null;
  raw: unknown;
}

export interface LimitedFields {
  title: string | null;
  description: string | null;
  location: string | null;
  conferenceUrl: string | null;
  recurrence: string[] | null;
  /** raw as the JSON text to store, at most RAW_LIMIT_BYTES, with what was cut recorded in it. */
  rawJson: string;
  /** Names of the fields that were cut or dropped (empty when everything fit). */
  cutFields: string[];
}

/** The provider's fields cut to the API's limits, and raw bounded and marked; pure and linear. */
export function limitEventFields(fields: ProviderFields): LimitedFields {
  const cutFields: string[] = [];
  const text = (name: string, value: string | null, limit: number): string | null => {
    if (value === null) return null;
    const limited = cutText(value, limit);
    if (limited !== value) cutFields.push(name);
    return limited;
  };
  const title = text('title', fields.title, EVENT_FIELD_LIMITS.title);
  const description = text('description', fields.description, EVENT_FIELD_LIMITS.description);
  const location = text('location', fields.location, EVENT_FIELD_LIMITS.location);
  let conferenceUrl = fields.conferenceUrl;
  if (conferenceUrl !== null && !fitsCodePoints(conferenceUrl, EVENT_FIELD_LIMITS.meetingUrl)) {
    conferenceUrl = null;
    cutFields.push('conference_url');
  }
  let recurrence = fields.recurrence;
  if (recurrence !== null) {
    const limited = limitRecurrence(recurrence);
    if (limited.isCut) cutFields.push('recurrence');
    recurrence = limited.lines;
  }
  return { title, description, location, conferenceUrl, recurrence, rawJson: boundRaw(fields.raw, cutFields), cutFields };
}

/** Whether a meeting URL found in the (already cut) text fits the stored column. */
export function isMeetingUrlWithinLimit(url: string): boolean {
  return fitsCodePoints(url, EVENT_FIELD_LIMITS.meetingUrl);
}

// ---------------------------------------------------------------------------------------------
// Text

/** `value` if it has at most `limit` code points, else its first limit - 1 and CUT_MARKER. */
export function cutText(value: string, limit: number): string {
  // Code points never outnumber UTF-16 units, so a string this short fits without counting.
  if (fitsCodePoints(value, limit)) return value;
  return value.slice(0, indexAfterCodePoints(value, limit - 1)) + CUT_MARKER;
}

function fitsCodePoints(value: string, limit: number): boolean {
  if (value.length <= limit) return true;
  // More than twice the limit in UTF-16 units is more than the limit in code points.
  if (value.length > 2 * limit) return false;
  return indexAfterCodePoints(value, limit) >= value.length;
}

/** The UTF-16 index just after the first `count` code points (or the string's length). */
function indexAfterCodePoints(value: string, count: number): number {
  let index = 0;
  for (let seen = 0; seen < count && index < value.length; seen++) {
    const unit = value.charCodeAt(index);
    const isPair = unit >= 0xd800 && unit <= 0xdbff && index + 1 < value.length && (value.charCodeAt(index + 1) & 0xfc00) === 0xdc00;
    index += isPair ? 2 : 1;
  }
  return index;
}

// ---------------------------------------------------------------------------------------------
// Recurrence

interface LineGroup {
  /** 'EXDATE;TZID=Europe/Berlin' and the like: everything before the value. */
  head: string;
  values: string[];
}

/**
 * Recurrence lines within EVENT_FIELD_LIMITS: unchanged when they already fit. Otherwise RRULE
 * lines are kept as they are (one over 2,000 characters is dropped: no real rule is that long),
 * EXDATE and RDATE values are grouped by their parameters and packed onto as few lines as fit,
 * and if that is still too many lines the oldest EXDATE/RDATE values go first (the basic
 * YYYYMMDDTHHMMSS form sorts by time within one group), taken from the groups with the most
 * lines. Other lines are kept while they fit. Linear in the input (plus sorting).
 */
export function limitRecurrence(lines: readonly string[]): { lines: string[] | null; isCut: boolean } {
  const { recurrenceLines: maxLines, recurrenceLineChars: maxChars } = EVENT_FIELD_LIMITS;
  if (lines.length <= maxLines && lines.every((l) => l.length <= maxChars)) return { lines: [...lines], isCut: false };
  let isCut = false;
  const rules: string[] = [];
  const others: string[] = [];
  const groups = new Map<string, LineGroup>();
  for (const line of lines) {
    const split = splitValue(line);
    const name = (split ? split.head : line).split(';')[0]!.toUpperCase();
    if (split && (name === 'EXDATE' || name === 'RDATE') && split.head.length < maxChars / 2) {
      let group = groups.get(split.head);
      if (!group) {
        group = { head: split.head, values: [] };
        groups.set(split.head, group);
      }
      for (const value of split.value.split(',')) {
        const trimmed = value.trim();
        if (trimmed === '') continue;
        if (split.head.length + 1 + trimmed.length > maxChars) isCut = true;
        else group.values.push(trimmed);
      }
      continue;
    }
    if (line.length > maxChars) {
      isCut = true;
      continue;
    }
    (name === 'RRULE' ? rules : others).push(line);
  }
  const kept = [...rules, ...others].slice(0, maxLines);
  if (kept.length < rules.length + others.length) isCut = true;
  // Each group packed newest first, so that dropping its last lines drops its oldest values.
  const packed = [...groups.values()].map((group) => packNewestFirst(group.head, [...new Set(group.values)].sort().reverse(), maxChars));
  const budget = maxLines - kept.length;
  const allowed = shareLines(packed.map((p) => p.length), budget);
  const dateLines: string[] = [];
  packed.forEach((groupLines, i) => {
    if (allowed[i]! < groupLines.length) isCut = true;
    // Back to oldest-first order for reading.
    dateLines.push(...groupLines.slice(0, allowed[i]).reverse().map((line) => reverseValues(line)));
  });
  const result = [...rules, ...dateLines, ...others.slice(0, Math.max(0, maxLines - rules.length))].slice(0, maxLines);
  return { lines: result.length > 0 ? result : null, isCut };
}

/**
 * How many lines each group keeps so that they total at most `budget`, taking from the largest
 * first: every group keeps min(its lines, L) for the largest L that fits, and what is left of
 * the budget goes one line each to groups that had more than L.
 */
function shareLines(sizes: number[], budget: number): number[] {
  const total = sizes.reduce((n, s) => n + s, 0);
  if (total <= budget) return sizes;
  const sorted = [...sizes].sort((a, b) => a - b);
  let level = 0;
  let used = 0;
  for (let i = 0; i < sorted.length; i++) {
    const remaining = sorted.length - i;
    const next = sorted[i]!;
    if (used + (next - level) * remaining > budget) {
      level += Math.floor((budget - used) / remaining);
      break;
    }
    used += (next - level) * remaining;
    level = next;
  }
  const shares = sizes.map((s) => Math.min(s, level));
  let left = budget - shares.reduce((n, s) => n + s, 0);
  for (let i = 0; i < sizes.length && left > 0; i++) {
    if (sizes[i]! > shares[i]!) {
      shares[i]!++;
      left--;
    }
  }
  return shares;
}

/** Values (newest first) on lines of at most maxChars, the newest on the first line. */
function packNewestFirst(head: string, values: string[], maxChars: number): string[] {
  const lines: string[] = [];
  let current: string[] = [];
  let length = head.length + 1;
  for (const value of values) {
    const added = (current.length > 0 ? 1 : 0) + value.length;
    if (current.length > 0 && length + added > maxChars) {
      lines.push(`${head}:${current.join(',')}`);
      current = [];
      length = head.length + 1;
    }
    length += (current.length > 0 ? 1 : 0) + value.length;
    current.push(value);
  }
  if (current.length > 0) lines.push(`${head}:${current.join(',')}`);
  return lines;
}

function reverseValues(line: string): string {
  const split = splitValue(line)!;
  return `${split.head}:${split.value.split(',').reverse().join(',')}`;
}

/** 'NAME;P="a:b":VALUE' -> head 'NAME;P="a:b"', value 'VALUE' (the first ':' outside quotes). */
function splitValue(line: string): { head: string; value: string } | null {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ':' && !quoted) return { head: line.slice(0, i), value: line.slice(i + 1) };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// raw

/** Room kept for the record of what was cut (at most this many field names, each shortened). */
const NOTE_RESERVE_BYTES = 8 * 1024;
const NOTE_MAX_NAMES = 50;
/** The most of a dropped guest list kept for the owner's own entry (ownEntriesOf). */
const OWN_ENTRY_MAX_BYTES = 1024;

/**
 * raw as JSON under RAW_LIMIT_BYTES, with `cutFields` recorded in it. When the payload is too
 * big, its largest top-level fields are dropped first, and their names recorded too (the first
 * NOTE_MAX_NAMES of them, and how many); a dropped `attendees` keeps the owner's own entry. Each field is sized once (a huge string without being
 * serialised) and the JSON is built once, so the cost is linear in the payload. Anything that is
 * not a plain object is kept whole if it fits, else dropped.
 */
export function boundRaw(raw: unknown, cutFields: readonly string[]): string {
  const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  const payload: Record<string, unknown> = isObject ? { ...(raw as Record<string, unknown>) } : raw === undefined || raw === null ? {} : { value: raw };
  delete payload[LIMITS_RAW_KEY];
  // The JSON of an object is '{' + its `"key":value` entries joined by ',' + '}', so the sizes of
  // the entries add up to the size of the whole.
  const entries: Array<{ key: string; bytes: number }> = [];
  let total = 2;
  for (const [key, value] of Object.entries(payload)) {
    const valueBytes = typeof value === 'string' && value.length > RAW_LIMIT_BYTES
      ? value.length
      : utf8Length(JSON.stringify(value) ?? '');
    if (valueBytes === 0) continue; // undefined and functions are left out of JSON anyway
    const bytes = utf8Length(JSON.stringify(key)) + 1 + valueBytes + 1;
    entries.push({ key, bytes });
    total += bytes;
  }
  const dropped: string[] = [];
  const budget = RAW_LIMIT_BYTES - (cutFields.length > 0 || total > RAW_LIMIT_BYTES ? NOTE_RESERVE_BYTES : 0);
  if (total > budget) {
    entries.sort((a, b) => b.bytes - a.bytes);
    for (const entry of entries) {
      if (total <= budget) break;
      const kept = entry.key === 'attendees' ? ownEntriesOf(payload.attendees) : null;
      dropped.push(entry.key);
      total -= entry.bytes;
      if (kept === null) {
        delete payload[entry.key];
      } else {
        payload[entry.key] = kept.entries;
        total += utf8Length(JSON.stringify(entry.key)) + 1 + kept.bytes + 1;
      }
    }
  }
  const note: Record<string, unknown> = {};
  if (cutFields.length > 0) note.cut_fields = [...cutFields];
  if (dropped.length > 0) {
    note.dropped_raw_fields = dropped.slice(0, NOTE_MAX_NAMES).map((name) => (name.length > 100 ? `${name.slice(0, 100)}…` : name));
    if (dropped.length > NOTE_MAX_NAMES) note.dropped_raw_field_count = dropped.length;
  }
  const json = JSON.stringify(Object.keys(note).length > 0 ? { ...payload, [LIMITS_RAW_KEY]: note } : payload);
  // The sizes above are exact; this only guards the bound if they were not.
  return utf8Length(json) <= RAW_LIMIT_BYTES ? json : JSON.stringify({ [LIMITS_RAW_KEY]: { ...note, dropped_raw_fields: ['(all)'] } });
}

/**
 * Of a guest list too big to keep, the owner's own entry (Google marks it `self: true`, with the
 * owner's `responseStatus`: developers.google.com/calendar/api/v3/reference/events), so that the
 * owner's answer survives the cut: a declined all-hands keeps no bot. Null when there is none, or
 * it is not small (OWN_ENTRY_MAX_BYTES).
 */
function ownEntriesOf(attendees: unknown): { entries: unknown[]; bytes: number } | null {
  if (!Array.isArray(attendees)) return null;
  const own = attendees.filter((a: unknown) => a !== null && typeof a === 'object' && (a as { self?: unknown }).self === true);
  if (own.length === 0) return null;
  const bytes = utf8Length(JSON.stringify(own));
  return bytes <= OWN_ENTRY_MAX_BYTES ? { entries: own, bytes } : null;
}

/** UTF-8 length of a string, counted without encoding it (lone surrogates count as the 3 bytes of U+FFFD). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
