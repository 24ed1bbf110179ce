// npx node bench/ics-zone-names.ts [--tzids=350000] [--names=one|four] [--same]
//
// What a feed of distinct made-up TZIDs costs a parse, as docs/ics-parsing.md reports it: the
// TZIDs on EXDATE lines of daily series (9,990 lines per event, under the parser's 10,000
// properties), each TZID `Made/Up<n>` (one name to check) or `Aa/Bb/Cc/Dd/Made<n>` (four: itself
// and three of its ends). --same writes one TZID on every line, for the cost of the feed's size
// alone. Prints the main thread's CPU time for the parse and its longest busy stretch
// (test/support/stall-probe.ts), after a warm-up parse. It measures; it never fails on a figure.
import { parseArgs } from 'node:util';
import { parseIcsYielding } from '../src/adapters/calendars/ics-parser.ts';
import { FeedText } from '../src/adapters/calendars/feed-text.ts';
import { measureStall } from '../test/support/stall-probe.ts';

const NOW = Date.parse('2026-11-20T00:00:00Z');
const LINES_PER_EVENT = 9_990;

const { values } = parseArgs({ options: { tzids: { type: 'string', default: '350000' }, names: { type: 'string', default: 'one' }, same: { type: 'boolean', default: false } } });
const count = Number(values.tzids);
const tzid = (n: number) => (values.same ? 'Made/Up' : values.names === 'four' ? `Aa/Bb/Cc/Dd/Made${n}` : `Made/Up${n}`);

const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Rollcall bench//EN'];
for (let first = 0; first < count; first += LINES_PER_EVENT) {
  lines.push('BEGIN:VEVENT', `UID:e${first}`, 'DTSTART:20261121T090000Z', 'RRULE:FREQ=DAILY;COUNT=3');
  for (let n = first; n < Math.min(count, first + LINES_PER_EVENT); n++) lines.push(`EXDATE;TZID=${tzid(n)}:20300101T090000`);
  lines.push('END:VEVENT');
}
lines.push('END:VCALENDAR', '');
const text = lines.join('\r\n');
// As a fetched feed reaches the parser: in pieces.
const pieces: string[] = [];
for (let i = 0; i < text.length; i += 65_536) pieces.push(text.slice(i, i + 65_536));

await parseIcsYielding(['BEGIN:VCALENDAR', 'BEGIN:VEVENT', 'UID:w', 'DTSTART;TZID=Europe/Berlin:20261121T090000', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n'), { nowMs: NOW });
const before = process.threadCpuUsage();
const { result, stall } = await measureStall(() => parseIcsYielding(new FeedText(pieces), { nowMs: NOW }));
const used = process.threadCpuUsage(before);
console.log(`${count} TZIDs (${values.same ? 'one for all lines' : `${values.names} name(s) each`}), ${(text.length / 1_048_576).toFixed(1)} MiB, ${result.events.length} events`);
console.log(`CPU ${((used.user + used.system) / 1e6).toFixed(2)} s; longest busy stretch ${stall.busyMs} ms besides ${stall.gcMs} ms of garbage collection (wall ${stall.wallMs} ms)`);
console.log(`first warning: ${result.warnings[0] ?? '(none)'}`);
