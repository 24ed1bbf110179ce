// Times in words: the unit tests run under two process time zones (UTC and Los Angeles), the
// browser's zone here being the process's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { durationsInWords, durationWords, formatRelative, formatTimeRange, occurrenceKeyInstant, reasonWords } from './format.ts';

const HOUR_MS = 3_600_000;
const words = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
/** A local time in December 2026 (no change of clocks in either zone). */
const at = (day: number, hour: number, minute = 0) => new Date(2026, 11, day, hour, minute).getTime();
const iso = (ms: number) => new Date(ms).toISOString();

test('a day or more away is counted in calendar days of the local zone, not in 24-hour periods', () => {
  // 30 hours after 22:00 is 04:00 two days later: the day after tomorrow, not "tomorrow".
  assert.equal(formatRelative(iso(at(4, 22) + 30 * HOUR_MS), at(4, 22)), words.format(2, 'day'));
  // 25 hours after 23:00 is midnight two days later.
  assert.equal(formatRelative(iso(at(4, 23) + 25 * HOUR_MS), at(4, 23)), words.format(2, 'day'));
  // 40 hours after 01:00 is 17:00 the next day: tomorrow, not "in 2 days".
  assert.equal(formatRelative(iso(at(4, 1) + 40 * HOUR_MS), at(4, 1)), words.format(1, 'day'));
  // Back in time the same: 30 hours before 02:00 is 20:00 two days earlier.
  assert.equal(formatRelative(iso(at(4, 2) - 30 * HOUR_MS), at(4, 2)), words.format(-2, 'day'));
  assert.equal(formatRelative(iso(at(4, 23) - 40 * HOUR_MS), at(4, 23)), words.format(-1, 'day'));
  assert.equal(formatRelative(iso(at(4, 12) + 7 * 24 * HOUR_MS), at(4, 12)), words.format(7, 'day'));
});

test('across a change of clocks the calendar day still counts', () => {
  // Los Angeles turns its clocks back at 02:00 on 1 November 2026 (a 25-hour day); UTC does not.
  const from = new Date(2026, 9, 31, 0, 30).getTime();
  const to = new Date(2026, 10, 1, 23, 45).getTime();
  assert.equal(formatRelative(iso(to), from), words.format(1, 'day'));
});

test('less than a day away is said in seconds, minutes or hours', () => {
  const now = at(4, 22);
  assert.equal(formatRelative(iso(now + 20_000), now), words.format(20, 'second'));
  assert.equal(formatRelative(iso(now + 5 * 60_000), now), words.format(5, 'minute'));
  // 20 hours on is tomorrow by the calendar, but hours say it better.
  assert.equal(formatRelative(iso(now + 20 * HOUR_MS), now), words.format(20, 'hour'));
  assert.equal(formatRelative(iso(now - 3 * HOUR_MS), now), words.format(-3, 'hour'));
  assert.equal(formatRelative(null, now), '');
});

test('dates and times are written in the page\'s language, whatever the browser\'s, in its time zone', () => {
  // A process whose locale is German stands for a browser set to German.
  const instant = '2026-12-05T14:05:00.000Z';
  const script = `
    const { formatDateTime, formatClockWithDay, formatRelative } = await import(${JSON.stringify(new URL('./format.ts', import.meta.url).href)});
    const now = Date.parse(${JSON.stringify(instant)});
    console.log(JSON.stringify({
      locale: Intl.DateTimeFormat().resolvedOptions().locale,
      dateTime: formatDateTime(${JSON.stringify(instant)}),
      withDay: formatClockWithDay(new Date(now + 3 * 86_400_000).toISOString(), now),
      relative: formatRelative(new Date(now + 86_400_000).toISOString(), now),
    }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' }, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const written = JSON.parse(child.stdout) as { locale: string; dateTime: string; withDay: string; relative: string };
  assert.match(written.locale, /^de/, 'the child process stands for a German browser');
  const at = new Date(instant);
  assert.equal(written.dateTime, new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' }).format(at));
  assert.equal(written.withDay, new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(at.getTime() + 3 * 86_400_000)));
  assert.equal(written.relative, 'tomorrow');
});

test('a meeting\'s time reads from start to end without seconds, its date once on one day', () => {
  // Intl puts thin and narrow no-break spaces around the dash and before AM/PM.
  const plain = (text: string) => text.replace(/\s/g, ' ');
  assert.equal(plain(formatTimeRange(iso(at(7, 12)), iso(at(7, 13)))), 'Dec 7, 2026, 12:00 – 1:00 PM');
  assert.equal(plain(formatTimeRange(iso(at(7, 10, 30)), iso(at(7, 13)))), 'Dec 7, 2026, 10:30 AM – 1:00 PM');
});

test('a meeting over midnight of the local zone shows both dates', () => {
  const plain = (text: string) => text.replace(/\s/g, ' ');
  assert.equal(plain(formatTimeRange(iso(at(7, 23)), iso(at(8, 1)))), 'Dec 7, 2026, 11:00 PM – Dec 8, 2026, 1:00 AM');
});

test('an end that is missing or not after the start leaves the start, still without seconds', () => {
  const plain = (text: string) => text.replace(/\s/g, ' ');
  assert.equal(plain(formatTimeRange(iso(at(7, 12, 5)), null)), 'Dec 7, 2026, 12:05 PM');
  assert.equal(plain(formatTimeRange(iso(at(7, 12)), iso(at(7, 12)))), 'Dec 7, 2026, 12:00 PM');
  assert.equal(plain(formatTimeRange(iso(at(7, 12)), 'not a time')), 'Dec 7, 2026, 12:00 PM');
});

test('a number of seconds in words, in the largest whole units that say it', () => {
  assert.equal(durationWords(900), '15 minutes');
  assert.equal(durationWords(180), '3 minutes');
  assert.equal(durationWords(60), '1 minute');
  assert.equal(durationWords(90), '1 minute 30 seconds');
  assert.equal(durationWords(150), '2 minutes 30 seconds');
  assert.equal(durationWords(45), '45 seconds');
  assert.equal(durationWords(1), '1 second');
  assert.equal(durationWords(1.5), '1.5 seconds');
  assert.equal(durationWords(0.25), '250 milliseconds');
  assert.equal(durationWords(3600), '1 hour');
  assert.equal(durationWords(7200), '2 hours');
  assert.equal(durationWords(5400), '1 hour 30 minutes');
  assert.equal(durationWords(3661), '1 hour 1 minute');
});

test('a duration of nothing is 0 seconds (a join lead of 0 s), and the unit is chosen after rounding', () => {
  assert.equal(durationWords(0), '0 seconds');
  assert.equal(durationsInWords('joins 0 s before the start'), 'joins 0 seconds before the start');
  assert.equal(durationsInWords('no answer within 0 ms'), 'no answer within 0 seconds');
  assert.equal(durationWords(59.96), '1 minute');
  assert.equal(durationWords(59.94), '59.9 seconds');
  assert.equal(durationWords(0.9996), '1 second');
  assert.equal(durationWords(3599.6), '1 hour');
  assert.equal(durationWords(3599.4), '59 minutes 59 seconds');
});

test('the durations the server writes in short in reasons are said in words; other numbers stay', () => {
  // MeetStream's creation window (src/adapters/bot-providers/meetstream-bot-provider.ts).
  assert.equal(reasonWords('HTTP 504; sent again under its key once it cannot be running at meetstream any more (900 s)'),
    'HTTP 504; sent again under its key once it cannot be running at meetstream any more (15 minutes)');
  // An ad-hoc bot's booking (src/services/scheduling/ad-hoc-bots.ts) and a calendar bot's join lead.
  assert.equal(reasonWords('Created through POST /bots/create_bot (zoom:1); joins now; its meeting is taken to last 3600 s'),
    'Created through POST /bots/create_bot (zoom:1); joins now; its meeting is taken to last 1 hour');
  assert.equal(reasonWords('Scheduled for event evt_1 (zoom:1); joins 180 s before the start'), 'Scheduled for event evt_1 (zoom:1); joins 3 minutes before the start');
  // A runtime's timeout in milliseconds, a handover's lead in minutes (src/services/providers/bot-handover.ts).
  assert.equal(durationsInWords('no complete answer within 10000 ms'), 'no complete answer within 10 seconds');
  assert.equal(durationsInWords('Will be handed over to recall, 2.5 min before it joins; 45 s after its lead runs out'), 'Will be handed over to recall, 2 minutes 30 seconds before it joins; 45 seconds after its lead runs out');
  for (const unchanged of ['runtime answered 503', 'sessions 5 seconds apart', 'attempt 3 sent', 'zoom:81234567055 s']) assert.equal(durationsInWords(unchanged), unchanged);
});

test('an occurrence a reason names by its key is named by its start, in local time without seconds', () => {
  const start = formatTimeRange('2026-12-07T10:00:00Z', null);
  assert.equal(reasonWords('The occurrence 20261207T100000Z of series evt_1 was cancelled'), `The occurrence on ${start} of series evt_1 was cancelled`);
  assert.equal(reasonWords('occurrence 20261207T100000.250Z continues in series evt_2'), `occurrence on ${formatTimeRange('2026-12-07T10:00:00.250Z', null)} continues in series evt_2`);
  // Not a key: left as it is.
  assert.equal(reasonWords('The occurrence 20261307T100000Z of series evt_1'), 'The occurrence 20261307T100000Z of series evt_1');
  assert.equal(reasonWords('occurrence 20261207T100000Zx'), 'occurrence 20261207T100000Zx');
});

test('an occurrence key naming no real instant (February 30, 24:00) is left as written, not read as another day', () => {
  assert.equal(occurrenceKeyInstant('20261207T100000Z'), '2026-12-07T10:00:00.000Z');
  assert.equal(occurrenceKeyInstant('20260230T100000Z'), null);
  assert.equal(occurrenceKeyInstant('20261207T240000Z'), null);
  assert.equal(reasonWords('The occurrence 20260230T100000Z of series evt_1 was cancelled'), 'The occurrence 20260230T100000Z of series evt_1 was cancelled');
});
