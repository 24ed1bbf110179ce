// Run as a process of its own (zone-comparison-stall.int.test.ts): parses, beside a stall probe,
// a feed whose VTIMEZONE no name resolves and no IANA zone matches, so that it is compared with
// every IANA zone for the first time in the process, as the first such feed after a start is.
// Nothing warms that path first. Prints the probe's figures and the zones the events were read
// in, as one JSON line.
// Argument: `fixed` (+01:17 all year) or `yearly` (+01:17 in winter, +02:17 in summer, on the
// EU's rules since 1970).
import { parseIcsYielding } from '../../src/adapters/calendars/ics-parser.ts';
import { measureStall } from './stall-probe.ts';

const NOW = Date.parse('2026-11-20T09:00:00Z');
const rules = process.argv[2] === 'fixed'
  ? ['BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0117', 'TZOFFSETTO:+0117', 'END:STANDARD']
  : ['BEGIN:STANDARD', 'DTSTART:19701025T030000', 'TZOFFSETFROM:+0217', 'TZOFFSETTO:+0117', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000', 'TZOFFSETFROM:+0117', 'TZOFFSETTO:+0217', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT'];
const text = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Rollcall test//EN', 'BEGIN:VTIMEZONE', 'TZID:Custom Zone', ...rules, 'END:VTIMEZONE',
  'BEGIN:VEVENT', 'UID:first@feed.example', 'DTSTART;TZID=Custom Zone:20261121T090000', 'DTEND;TZID=Custom Zone:20261121T100000', 'END:VEVENT',
  'END:VCALENDAR', ''].join('\r\n');
const { result, stall } = await measureStall(() => parseIcsYielding(text, { nowMs: NOW }));
process.stdout.write(`${JSON.stringify({ stall, events: result.events.map((e) => ({ timeZone: e.timeZone, start: new Date(e.startMs).toISOString() })) })}\n`);
