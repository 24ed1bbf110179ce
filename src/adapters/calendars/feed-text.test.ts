import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { FeedText } from './feed-text.ts';
import { parseIcs } from './ics-parser.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');

/** The text cut at the given positions. */
function cutAt(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const c of at) {
    pieces.push(text.slice(from, c));
    from = c;
  }
  pieces.push(text.slice(from));
  return pieces;
}

function lineBreaksOf(text: FeedText): [number, number][] {
  const out: [number, number][] = [];
  for (let b = text.findLineBreak(0); b; b = text.findLineBreak(b.index + b.length)) out.push([b.index, b.length]);
  return out;
}

test('a CRLF split between two pieces is one line break; CR and LF alone are one each', () => {
  const text = new FeedText(['A\r', '\nB\rC\n', '', 'D\r']);
  assert.equal(text.length, 9);
  assert.deepEqual(lineBreaksOf(text), [[1, 2], [4, 1], [6, 1], [8, 1]]);
  assert.equal(text.slice(0, 9), 'A\r\nB\rC\nD\r');
  assert.equal(text.slice(2, 5), '\nB\r');
  assert.equal(text.findLineBreak(9), null);
  assert.ok(Number.isNaN(text.charCodeAt(9)));
  assert.ok(Number.isNaN(text.charCodeAt(-1)));
});

test('any cut of a text reads as the text: characters, line breaks, slices and hashes', () => {
  fc.assert(fc.property(
    fc.string({ unit: fc.constantFrom('a', 'é', '\r', '\n', ' ', ':', '😀'), maxLength: 60 }),
    fc.array(fc.nat(), { maxLength: 8 }),
    fc.nat(), fc.nat(),
    (whole, cuts, a, b) => {
      const pieces = new FeedText(cutAt(whole, cuts));
      const single = new FeedText(whole);
      assert.equal(pieces.length, whole.length);
      for (let i = 0; i < whole.length; i++) assert.equal(pieces.charCodeAt(i), whole.charCodeAt(i));
      assert.deepEqual(lineBreaksOf(pieces), lineBreaksOf(single));
      const from = a % (whole.length + 1);
      const to = from + (b % (whole.length + 1 - from + 1));
      assert.equal(pieces.slice(from, to), whole.slice(from, to));
      assert.equal(pieces.sha256(from, to), createHash('sha256').update(whole.slice(from, to)).digest('hex'));
    },
  ), { numRuns: 500 });
});

test('a feed read from pieces parses exactly as the same feed read whole', () => {
  const feed = [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'X-WR-CALNAME:Team', 'BEGIN:VTIMEZONE', 'TZID:Custom/Zone', 'BEGIN:STANDARD', 'DTSTART:19701025T030000',
    'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD', 'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000',
    'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT', 'END:VTIMEZONE',
    'BEGIN:VEVENT', 'UID:one@feed', 'DTSTART;TZID=Custom/Zone:20261201T090000', 'DTEND;TZID=Custom/Zone:20261201T100000', 'SUMMARY:Weekly',
    'RRULE:FREQ=WEEKLY;COUNT=3', 'DESCRIPTION:Join at https://zoom.us/j/1234567890 — folded over', ' two lines, in pieces', 'END:VEVENT',
    'BEGIN:VEVENT', 'DTSTART:20261202T090000Z', 'DTEND:20261202T100000Z', 'SUMMARY:No UID', 'LOCATION:https://meet.google.com/abc-defg-hij', 'END:VEVENT',
    'END:VCALENDAR', '',
  ].join('\r\n');
  const whole = parseIcs(feed, { nowMs: NOW });
  assert.equal(whole.events.length, 2);
  fc.assert(fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), (cuts) => {
    assert.deepEqual(parseIcs(new FeedText(cutAt(feed, cuts)), { nowMs: NOW }), whole);
  }), { numRuns: 300 });
});
