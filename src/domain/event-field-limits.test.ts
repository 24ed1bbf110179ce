import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  CUT_MARKER, EVENT_FIELD_LIMITS, LIMITS_RAW_KEY, RAW_LIMIT_BYTES, boundRaw, cutText, isMeetingUrlWithinLimit, limitEventFields, limitRecurrence,
} from './event-field-limits.ts';
import { ownerAnswerOf } from './invitation.ts';
import { meetingFactsOf } from './auto-schedule-rules.ts';

const fields = (over: Partial<Parameters<typeof limitEventFields>[0]> = {}) => ({
  title: 'Planning', description: 'Agenda', location: 'Room 1', conferenceUrl: 'https://zoom.us/j/123', recurrence: null, raw: { id: 'a' }, ...over,
});

describe('text fields', () => {
  test('fields within their limits are kept as they are, raw too, and nothing is marked', () => {
    const limited = limitEventFields(fields({ title: 'T'.repeat(EVENT_FIELD_LIMITS.title) }));
    assert.equal(limited.title!.length, EVENT_FIELD_LIMITS.title);
    assert.deepEqual(limited.cutFields, []);
    assert.equal(limited.rawJson, '{"id":"a"}');
    assert.equal(limited.description, 'Agenda');
  });

  test('an over-long field keeps limit - 1 characters and ends with the marker; raw names it', () => {
    const limited = limitEventFields(fields({ title: 'T'.repeat(5000), description: 'D'.repeat(100_001), location: null }));
    assert.equal(limited.title, `${'T'.repeat(EVENT_FIELD_LIMITS.title - 1)}${CUT_MARKER}`);
    assert.equal(limited.description!.length, EVENT_FIELD_LIMITS.description);
    assert.ok(limited.description!.endsWith(CUT_MARKER));
    assert.equal(limited.location, null);
    assert.deepEqual(limited.cutFields, ['title', 'description']);
    assert.deepEqual(JSON.parse(limited.rawJson)[LIMITS_RAW_KEY], { cut_fields: ['title', 'description'] });
  });

  test('lengths are code points, as the API counts them: a cut never splits a surrogate pair', () => {
    // 1024 emoji are 2048 UTF-16 units but fit a 1024 limit.
    const emoji = '😀'.repeat(1024);
    assert.equal(cutText(emoji, 1024), emoji);
    const cut = cutText(`${emoji}😀`, 1024);
    assert.equal([...cut].length, 1024);
    assert.equal(cut, `${'😀'.repeat(1023)}${CUT_MARKER}`);
    assert.equal(cutText('x'.repeat(10), 3), `xx${CUT_MARKER}`);
  });

  test('a conference URL over 4096 characters is dropped, not cut; a found meeting URL is checked the same way', () => {
    const long = `https://zoom.us/j/1?pwd=${'a'.repeat(4100)}`;
    const limited = limitEventFields(fields({ conferenceUrl: long }));
    assert.equal(limited.conferenceUrl, null);
    assert.deepEqual(limited.cutFields, ['conference_url']);
    assert.equal(isMeetingUrlWithinLimit(long), false);
    assert.equal(isMeetingUrlWithinLimit('https://zoom.us/j/1'), true);
  });

  test('a 19 MB description costs about as much as reading it once', () => {
    const huge = 'Lorem ipsum '.repeat(1_700_000);
    const began = performance.now();
    const limited = limitEventFields(fields({ description: huge, raw: { description: huge, vevent: huge, uid: 'x' } }));
    assert.ok(performance.now() - began < 2_000);
    assert.equal(limited.description!.length, EVENT_FIELD_LIMITS.description);
    assert.ok(limited.rawJson.length < 1000);
  });
});

describe('raw', () => {
  test('the largest fields go first until the payload fits, and are named', () => {
    const raw = { id: 'evt1', summary: 'Board', body: { content: 'x'.repeat(70_000) }, attendees: Array.from({ length: 300 }, (_, i) => ({ email: `p${i}@example.com` })) };
    const json = boundRaw(raw, []);
    const stored = JSON.parse(json);
    assert.ok(Buffer.byteLength(json) <= RAW_LIMIT_BYTES);
    assert.equal(stored.id, 'evt1');
    assert.equal(stored.attendees.length, 300, 'smaller fields are kept');
    assert.equal(stored.body, undefined);
    assert.deepEqual(stored[LIMITS_RAW_KEY], { dropped_raw_fields: ['body'] });
  });

  test('a guest list too big to keep keeps the owner\'s own entry, so that a decline is still seen', () => {
    // A Google all-hands: the owner's entry (self: true) among 2,000 guests, who are over 64 KB.
    const guests = Array.from({ length: 2000 }, (_, i) => ({ email: `guest${i}@example.com`, responseStatus: 'accepted' }));
    const own = { email: 'me@acme.example', self: true, responseStatus: 'declined' };
    const raw = { id: 'allhands', organizer: { email: 'ceo@acme.example' }, attendees: [...guests.slice(0, 700), own, ...guests.slice(700)] };
    const json = boundRaw(raw, []);
    assert.ok(Buffer.byteLength(json) <= RAW_LIMIT_BYTES);
    const stored = JSON.parse(json);
    assert.deepEqual(stored.attendees, [own]);
    assert.deepEqual(stored[LIMITS_RAW_KEY], { dropped_raw_fields: ['attendees'] });
    assert.equal(ownerAnswerOf(json), 'declined');
    // The guest list still counts as cut: who else comes is unknown.
    assert.equal(meetingFactsOf(json).domains, null);
    // Without an entry of the owner's, the list goes whole.
    assert.equal(JSON.parse(boundRaw({ id: 'x', attendees: guests }, [])).attendees, undefined);
  });

  test('several medium fields are dropped largest first; bytes are UTF-8 bytes', () => {
    const raw = { a: 'é'.repeat(20_000), b: 'x'.repeat(30_000), c: 'y'.repeat(10_000), keep: 'small' };
    const stored = JSON.parse(boundRaw(raw, ['title']));
    // a is 40,000 bytes in UTF-8 (20,000 characters): the largest, so it goes first.
    assert.deepEqual(Object.keys(stored).sort(), [LIMITS_RAW_KEY, 'b', 'c', 'keep']);
    assert.deepEqual(stored[LIMITS_RAW_KEY], { cut_fields: ['title'], dropped_raw_fields: ['a'] });
  });

  test('no payload, a non-object payload, and one that cannot fit at all', () => {
    assert.equal(boundRaw(undefined, []), '{}');
    assert.equal(boundRaw('text', []), '{"value":"text"}');
    // 100,000 small fields: sized once and dropped in one pass (each field dropped with a
    // re-serialisation of the rest would be quadratic: minutes).
    const many = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    const began = performance.now();
    const json = boundRaw(many, []);
    assert.ok(performance.now() - began < 2_000, `took ${performance.now() - began} ms`);
    assert.ok(Buffer.byteLength(json) <= RAW_LIMIT_BYTES);
    const note = JSON.parse(json)[LIMITS_RAW_KEY];
    assert.equal(note.dropped_raw_fields.length, 50);
    assert.ok(note.dropped_raw_field_count > 90_000);
  });

  test('a provider key that looks like ours is not trusted', () => {
    const stored = JSON.parse(boundRaw({ [LIMITS_RAW_KEY]: { cut_fields: ['forged'] }, id: 1 }, []));
    assert.deepEqual(stored, { id: 1 });
  });
});

describe('recurrence', () => {
  const exdates = (count: number, fromYear = 2020) => Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(fromYear, 0, 6 + 7 * i, 9));
    return `EXDATE;TZID=Europe/Berlin:${d.toISOString().slice(0, 10).replace(/-/g, '')}T090000`;
  });

  test('lines within the limits are kept exactly', () => {
    const lines = ['RRULE:FREQ=WEEKLY;BYDAY=MO', ...exdates(99)];
    assert.deepEqual(limitRecurrence(lines), { lines, isCut: false });
  });

  test('150 one-date EXDATE lines (a long-running series exported by a calendar app) are regrouped losslessly', () => {
    const lines = ['RRULE:FREQ=WEEKLY;BYDAY=MO', ...exdates(150)];
    const limited = limitRecurrence(lines);
    assert.equal(limited.isCut, false);
    assert.ok(limited.lines!.length <= 3);
    assert.equal(limited.lines![0], 'RRULE:FREQ=WEEKLY;BYDAY=MO');
    assert.ok(limited.lines!.every((l) => l.length <= EVENT_FIELD_LIMITS.recurrenceLineChars));
    const values = limited.lines!.slice(1).flatMap((l) => l.split(':')[1]!.split(','));
    assert.deepEqual(values, lines.slice(1).map((l) => l.split(':')[1]));
  });

  test('more dates than 100 lines hold: the oldest go, RRULE and the newest stay', () => {
    const lines = ['RRULE:FREQ=DAILY', ...exdates(20_000, 1900)];
    const limited = limitRecurrence(lines);
    assert.equal(limited.isCut, true);
    assert.equal(limited.lines!.length, EVENT_FIELD_LIMITS.recurrenceLines);
    assert.equal(limited.lines![0], 'RRULE:FREQ=DAILY');
    const values = limited.lines!.slice(1).flatMap((l) => l.split(':')[1]!.split(','));
    assert.equal(values.at(-1), lines.at(-1)!.split(':')[1], 'the newest date is kept');
    assert.ok(!values.includes(lines[1]!.split(':')[1]!), 'the oldest is dropped');
    assert.deepEqual(values, [...values].sort(), 'in order');
  });

  test('groups share the line budget, the largest giving up lines first; absurd lines are dropped', () => {
    const rdates = Array.from({ length: 10 }, (_, i) => `RDATE:2027010${i % 10}T090000Z`);
    const limited = limitRecurrence(['RRULE:FREQ=WEEKLY', `RRULE:${'X'.repeat(3000)}`, ...exdates(30_000, 1800), ...rdates]);
    assert.equal(limited.isCut, true);
    assert.equal(limited.lines!.length, EVENT_FIELD_LIMITS.recurrenceLines);
    assert.ok(limited.lines!.some((l) => l.startsWith('RDATE:')), 'the small group keeps its line');
    assert.ok(!limited.lines!.some((l) => l.length > EVENT_FIELD_LIMITS.recurrenceLineChars));
  });

  test('quoted parameters with ":" are split where the value begins', () => {
    const lines = [...Array.from({ length: 120 }, (_, i) => `EXDATE;TZID="Odd:Zone":2026${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}T090000`)];
    const limited = limitRecurrence(lines);
    assert.ok(limited.lines!.every((l) => l.startsWith('EXDATE;TZID="Odd:Zone":')));
  });
});
