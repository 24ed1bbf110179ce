// fast-check generators driven by JSON schemas from the OpenAPI document: values shaped like the
// schema (so requests get past validation and reach the code behind it), hostile values (wrong
// types, huge strings, deep nesting, unicode, dates without offsets, extreme numbers, unknown ids),
// and schema-shaped values with one part broken or removed.
import fc from 'fast-check';
import type { JsonSchema } from './openapi.ts';

export interface Hints {
  /** The instant the app's clock reads; generated times cluster around it. */
  nowMs: number;
  /** Ids that exist (the caller's own and another user's), so that some references resolve. */
  ids: string[];
  /**
   * Calendar feed URLs served locally. Feed URLs are fetched while the request runs, so they come
   * only from here and from addresses the outbound guard refuses: a fuzz run never reaches the
   * network.
   */
  feedUrls?: string[];
}

/** Feed URLs the outbound guard must refuse without fetching (or that fail locally and fast). */
const REFUSED_FEEDS = [
  'http://10.0.0.7/cal.ics', 'https://169.254.169.254/latest/meta-data', 'webcal://[::1]/x.ics', 'http://127.0.0.1:9/closed.ics',
  'ftp://127.0.0.1/x.ics', 'https://user:pass@127.0.0.1/x.ics', 'not a url', 'webcal://', 'file:///etc/passwd',
];

const DAY_MS = 86_400_000;

export const MEETING_URLS = [
  'https://zoom.us/j/85551234567?pwd=QWxhZGRpbjpvcGVuIHNlc2FtZQ',
  'https://us02web.zoom.us/j/85551234567',
  'https://meet.google.com/abc-defg-hij',
  'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
  'https://teams.microsoft.com/meet/123456789?p=abcdef',
  'https://company.webex.com/meet/someone',
  'https://whereby.com/room-name',
  'https://example.com/not-a-meeting',
];

/** Callback URLs that never need DNS: literal addresses, public and not, and malformed ones. */
const CALLBACK_URLS = [
  'https://93.184.215.14/hooks', 'http://93.184.215.14:8080/a?b=c', 'http://127.0.0.1/hook', 'http://[::1]/hook',
  'http://10.0.0.7/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::ffff:127.0.0.1]/x', 'http://0.0.0.0/',
  'https://user:pass@93.184.215.14/hook', 'http://2130706433/', 'http://0x7f.1/', 'ftp://93.184.215.14/x',
  'javascript:alert(1)', 'http://', 'https://[fe80::1%25eth0]/',
];

const TIME_ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Etc/GMT+12', 'Not/AZone', 'utc', '', '+05:30', 'America/Sao_Paulo'];

const RECURRENCE_LINES = [
  'RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10', 'RRULE:FREQ=DAILY;INTERVAL=2', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=31',
  'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'RRULE:FREQ=SECONDLY', 'RRULE:FREQ=DAILY;UNTIL=20261231T000000Z',
  'EXDATE:20261125T140000Z', 'RDATE:20261201T090000Z', 'RRULE:FREQ=WEEKLY;COUNT=0', 'RRULE:', 'EXRULE:FREQ=DAILY',
  'RRULE:FREQ=DAILY;COUNT=100000', 'RRULE:FREQ=MINUTELY;COUNT=50000', 'RRULE:FREQ=HOURLY;BYHOUR=25',
];

/** Times that a strict parser must refuse: no offset, impossible fields, out-of-range years. */
export const BAD_TIMES = [
  '2026-11-24T15:00:00', '2026-11-24T15:00', '2026-11-24 15:00:00Z', '2026-11-24', '20261124T150000Z',
  '2026-02-30T10:00:00Z', '2026-06-30T23:59:60Z', '2026-13-01T00:00:00Z', '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:01Z', '-000001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z',
  '2026-11-24T15:00:00+25:00', '2026-11-24T15:00:00+05', 'Tue, 24 Nov 2026 15:00:00 GMT', '1732460400',
  'now', 'tomorrow', '2026-11-24T15:00:00Z[Europe/Berlin]', '２０２６-11-24T15:00:00Z',
];

function isoAround(nowMs: number): fc.Arbitrary<string> {
  return fc.tuple(
    fc.integer({ min: -3 * DAY_MS, max: 60 * DAY_MS }),
    fc.constantFrom('Z', '+00:00', '+05:30', '-08:00', '+14:00', '-12:00'),
    fc.boolean(),
  ).map(([offsetMs, zone, withMillis]) => {
    const at = new Date(Math.floor((nowMs + offsetMs) / 60_000) * 60_000 + (withMillis ? 123 : 0));
    const iso = at.toISOString();
    if (zone === 'Z' || zone === '+00:00') return zone === 'Z' ? iso : iso.replace('Z', '+00:00');
    // Write the same instant in another offset.
    const sign = zone[0] === '-' ? -1 : 1;
    const minutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    const local = new Date(at.getTime() + minutes * 60_000).toISOString().slice(0, withMillis ? 23 : 19);
    return `${local}${zone}`;
  });
}

function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

/** Values no well-behaved client sends. */
export function hostileValue(hints: Hints): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(null, true, false, 0, -1, -0, 1.5, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 4294967296, '', ' ', '\u0000', 'null', 'true', '0', '-1', '1e999', 'NaN', 'Infinity', '[]', '{}', [], {}),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.string({ unit: 'grapheme', maxLength: 64 }),
    fc.constantFrom(...BAD_TIMES),
    isoAround(hints.nowMs),
    // Huge strings: over every documented maxLength, some near the body limit.
    fc.integer({ min: 1000, max: 400_000 }).map((n) => 'x'.repeat(n)),
    fc.integer({ min: 1, max: 60_000 }).map((n) => '\u{1F600}\u0301'.repeat(n)),
    // Deep enough to hurt naive recursion, shallow enough for JSON.stringify to send it; deeper
    // bodies are written as text (deeplyNestedJson).
    fc.integer({ min: 20, max: 2500 }).chain((d) => fc.constantFrom<'array' | 'object'>('array', 'object').map((k) => nested(d, k))),
    fc.jsonValue({ maxDepth: 3 }),
    fc.array(fc.string({ maxLength: 8 }), { maxLength: 200 }),
    fc.constantFrom('evt_AAAAAAAAAAAAAAAAAAAAAA', 'bot_AAAAAAAAAAAAAAAAAAAAAA', 'sch_x', 'usr_x', 'cal_x', '../../etc/passwd', "' OR 1=1 --", '%00', '<script>', '${jndi:ldap://x}'),
    knownId(hints),
    fc.constantFrom<unknown>(JSON.parse('{"__proto__": {"polluted": true}}'), { constructor: { prototype: { polluted: true } } }),
  );
}

function knownId(hints: Hints): fc.Arbitrary<string> {
  return hints.ids.length === 0 ? fc.constant('evt_none') : fc.constantFrom(...hints.ids);
}

/** Mostly `good`, sometimes `bad`: shaped values should usually get past validation. */
function mostly<T>(good: readonly T[], bad: readonly T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...bad) });
}

/** Strings for a property, using what its name suggests before falling back to the schema. */
function hintedString(name: string, schema: JsonSchema, hints: Hints): fc.Arbitrary<string> | null {
  if (/ics|feed/.test(name)) return mostly(hints.feedUrls?.length ? hints.feedUrls : REFUSED_FEEDS.slice(3, 4), REFUSED_FEEDS);
  if (/callback/.test(name)) return mostly(CALLBACK_URLS.slice(0, 2), CALLBACK_URLS.slice(2));
  if (/url|link/.test(name)) return mostly(MEETING_URLS, CALLBACK_URLS);
  if (name === 'timezone') return mostly(TIME_ZONES.slice(0, 7), TIME_ZONES.slice(7));
  if (/_id$|^id$/.test(name) || /_ids$/.test(name)) return fc.oneof(knownId(hints), fc.constantFrom('evt_none', 'bot_none'));
  if (/date$|_date$/.test(name) && schema.format !== 'date-time') {
    return fc.oneof(isoAround(hints.nowMs), isoAround(hints.nowMs).map((s) => s.slice(0, 10)), fc.constantFrom(...BAD_TIMES));
  }
  return null;
}

function plainString(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? 40, 40));
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength }) },
  );
}

/** Values shaped like the schema. `name` is the property the value goes into, when there is one. */
export function schemaValue(schema: JsonSchema, hints: Hints, name = '', depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((s: JsonSchema) => schemaValue(s, hints, name, depth + 1)));
  if (Array.isArray(schema.allOf)) return schemaValue(Object.assign({}, ...schema.allOf), hints, name, depth + 1);
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type: string) => schemaValue({ ...schema, type }, hints, name, depth + 1)));
  switch (schema.type) {
    case 'string': {
      const hinted = hintedString(name, schema, hints);
      if (hinted) return hinted;
      // Malformed times come from hostileValue; shaped ones should pass.
      if (schema.format === 'date-time') return isoAround(hints.nowMs);
      if (schema.format === 'date') return isoAround(hints.nowMs).map((s) => s.slice(0, 10));
      if (typeof schema.pattern === 'string') {
        return fc.stringMatching(new RegExp(schema.pattern), { size: 'xsmall' }).filter((s) => s.length <= (schema.maxLength ?? Infinity));
      }
      return plainString(schema);
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1_000_000);
      const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1_000_000);
      return schema.type === 'integer' ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = schema.items && typeof schema.items === 'object' ? schema.items : {};
      const itemName = name === 'recurrence' ? 'recurrence' : `${name}[]`;
      const itemArb = name === 'recurrence' ? mostly(RECURRENCE_LINES.slice(0, 8), RECURRENCE_LINES.slice(8)) : schemaValue(item, hints, itemName, depth + 1);
      return fc.array(itemArb, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
    }
    case 'object':
      return objectValue(schema, hints, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const CORE_FIELD = /^(start_time|end_time|deduplication_key|title|meeting_url)$/;
const RARE_FIELD = /^(recurring_event_id|original_start_time|occurrence_date|recurring_event|schedule_all_occurrences|cancel_all_occurrences|from_date)$/;

function objectValue(schema: JsonSchema, hints: Hints, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties: Record<string, JsonSchema> = schema.properties ?? {};
  const required: string[] = (schema.required ?? []).filter((k: string) => k in properties);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, propertySchema] of Object.entries(properties)) {
    const value = schemaValue(propertySchema, hints, key, depth + 1);
    // Schemas shared by create and update leave fields optional that one of them needs, and
    // optional fields depend on each other (recurring_event_id with original_start_time). Sending
    // the core-looking ones usually and the mode switches and cross-references seldom keeps a
    // fair share of bodies valid as a whole.
    const [absent, present] = required.includes(key) ? [0, 1] : CORE_FIELD.test(key) ? [1, 4] : RARE_FIELD.test(key) ? [6, 1] : [2, 1];
    model[key] = absent === 0 ? value : fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: present, arbitrary: value });
  }
  const known = fc.record(model).map((record) => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)));
  const extra = schema.additionalProperties;
  const maxExtra = Math.min(schema.maxProperties ?? 3, 3);
  let extras: fc.Arbitrary<Record<string, unknown>>;
  if (extra && typeof extra === 'object') {
    // A map (custom_attributes): keys are data, values follow the schema.
    extras = fc.dictionary(plainString(schema.propertyNames ?? { maxLength: 20 }).filter((k) => !(k in properties) && k !== '__proto__'), schemaValue(extra, hints, '', depth + 1), { maxKeys: maxExtra });
  } else if (extra !== false) {
    // Unknown fields must be ignored (forward compatible), so send some.
    extras = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).map((k) => `x_fuzz_${k}`), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 });
  } else {
    extras = fc.constant({});
  }
  return fc.tuple(known, extras, fc.integer({ min: 5, max: 240 })).map(([k, e, minutes]) => pairTimes({ ...e, ...k }, minutes));
}

/**
 * A start and an end generated apart are inverted half the time; when an object has both
 * (start_time/end_time, time_min/time_max), put the end `minutes` after the start.
 */
function pairTimes(value: Record<string, unknown>, minutes: number): Record<string, unknown> {
  for (const [startKey, endKey] of [['start_time', 'end_time'], ['time_min', 'time_max']] as const) {
    const start = value[startKey];
    if (typeof start === 'string' && typeof value[endKey] === 'string' && !Number.isNaN(Date.parse(start))) {
      value[endKey] = new Date(Date.parse(start) + minutes * 60_000).toISOString();
    }
  }
  return value;
}

/** Every path into a JSON value, for picking the part to break. */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (out.length > 500) return out;
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

function replaceAt(value: unknown, path: (string | number)[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return remove ? undefined : replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && remove) copy.splice(head as number, 1);
    else copy[head as number] = replaceAt(copy[head as number], rest, replacement, remove);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && remove) delete copy[head as string];
  else copy[head as string] = replaceAt(copy[head as string], rest, replacement, remove);
  return copy;
}

/** A schema-shaped value with one part replaced by a hostile value, or removed. */
export function brokenSchemaValue(schema: JsonSchema, hints: Hints): fc.Arbitrary<unknown> {
  return fc.tuple(schemaValue(schema, hints), fc.nat(), hostileValue(hints), fc.integer({ min: 0, max: 3 })).map(([value, index, hostile, mode]) => {
    const paths = pathsOf(value);
    const path = paths[index % paths.length]!;
    return replaceAt(value, path, hostile, mode === 0 && path.length > 0);
  });
}

/**
 * The plainest value the schema accepts: required properties only (plus `alsoInclude` at the top
 * level), first choices, times a day after `nowMs`. Deterministic, for requests that must get past
 * validation (auth probes, the tenant-isolation test).
 */
export function minimalValue(schema: JsonSchema, hints: Hints, name = '', alsoInclude: string[] = []): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const alternatives: JsonSchema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) {
    const chosen = alternatives.find((s) => s.type !== 'null') ?? alternatives[0]!;
    return minimalValue(chosen, hints, name, alsoInclude);
  }
  if (Array.isArray(schema.allOf)) return minimalValue(Object.assign({}, ...schema.allOf), hints, name, alsoInclude);
  const type = Array.isArray(schema.type) ? (schema.type.find((t: string) => t !== 'null') ?? 'null') : schema.type;
  switch (type) {
    case 'string': {
      if (/ics|feed/.test(name)) return hints.feedUrls?.[0] ?? REFUSED_FEEDS[3];
      if (/callback/.test(name)) return CALLBACK_URLS[0];
      if (/url|link/.test(name)) return MEETING_URLS[2];
      if (name === 'timezone') return 'UTC';
      if (schema.format === 'date-time' || /_time$|_at$/.test(name)) return new Date(hints.nowMs + DAY_MS).toISOString();
      if (schema.format === 'date' || /date$/.test(name)) return new Date(hints.nowMs + DAY_MS).toISOString().slice(0, 10);
      if (typeof schema.pattern === 'string') return fc.sample(fc.stringMatching(new RegExp(schema.pattern), { size: 'xsmall' }), { seed: 1, numRuns: 1 })[0];
      const min = schema.minLength ?? 0;
      const max = schema.maxLength ?? 64;
      return 'rollcall-minimal'.padEnd(min, 'x').slice(0, max);
    }
    case 'integer':
    case 'number':
      return Math.min(Math.max(1, schema.minimum ?? 1), schema.maximum ?? 1);
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => minimalValue(schema.items ?? {}, hints, `${name}[]`));
    case 'object': {
      const properties: Record<string, JsonSchema> = schema.properties ?? {};
      const out: Record<string, unknown> = {};
      for (const key of [...(schema.required ?? []), ...alsoInclude]) {
        if (key in properties) out[key] = minimalValue(properties[key]!, hints, key);
      }
      return out;
    }
    default:
      return {};
  }
}

/** JSON text nested `depth` levels deep: parses fine, but overflows any recursive walk of it. */
export function deeplyNestedJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * A schema-shaped body as JSON text with one value replaced by very deep nesting (over the depth
 * JSON.stringify can handle), so the server has to cope with a document it parsed but cannot
 * serialise again.
 */
export function deeplyNestedBody(schema: JsonSchema, hints: Hints): fc.Arbitrary<string> {
  const marker = '__rollcall_fuzz_deep__';
  return fc.tuple(schemaValue(schema, hints), fc.nat(), fc.integer({ min: 5000, max: 100_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
    .map(([value, index, depth, kind]) => {
      const paths = pathsOf(value).filter((p) => p.length > 0);
      const withMarker = paths.length === 0 ? { x_fuzz_deep: marker } : replaceAt(value, paths[index % paths.length]!, marker, false);
      return JSON.stringify(withMarker).replace(`"${marker}"`, deeplyNestedJson(depth, kind));
    });
}
