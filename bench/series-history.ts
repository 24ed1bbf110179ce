// npm run bench:series-history -- [--engine=sqlite|postgres] [--series=890] [--live=111] [--events=19000] [--runs=5]
// A user with a year of calendar history: --events single events and --series series, all begun
// 165 to 365 days ago, --live of them without end and the rest over (weekly 8 to 20 times, twice
// a week 20 times, or daily for 30 days). Times the first page of GET /calendar/events (the
// default window: a day back, 28 days ahead), which reads the series that may have occurrences in
// it. Runs the app in this process on a database of its own, dropped afterwards. Checkouts from
// before series kept their end (migration 036) run it too: it then writes no end, as they did not.
import { parseArgs } from 'node:util';
import { ManualClock } from '../src/lib/clock.ts';
import * as recurrence from '../src/domain/recurrence.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'sqlite' },
    series: { type: 'string', default: '890' },
    live: { type: 'string' },
    events: { type: 'string', default: '19000' },
    runs: { type: 'string', default: '5' },
  },
});
if (values.engine !== 'sqlite' && values.engine !== 'postgres') throw new Error(`--engine: ${values.engine}; choose sqlite or postgres`);
// The harness picks its engine from the environment when it is loaded: set before it is.
process.env.ROLLCALL_TEST_ENGINE = values.engine;
const { startTestRollcall } = await import('../test/support/harness.ts');
const SERIES = Number(values.series);
const LIVE = Number(values.live ?? Math.round(SERIES / 8));
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const seriesEndMs = (recurrence as Record<string, unknown>).seriesEndMs as ((s: recurrence.SeriesDefinition) => number | null) | undefined;

const NOW = Date.parse('2026-11-20T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const rc = await startTestRollcall({ clock: new ManualClock(NOW) });
try {
  const { userId, auth } = await rc.newUser('history');
  const base = {
    user_id: userId, calendar_id: null, provider_event_id: null, description: null, location: null, timezone: 'Europe/Berlin',
    meeting_url: 'https://zoom.us/j/123456789', meeting_platform: 'zoom', meeting_identity: 'zoom:123456789', recurring_event_id: null,
    original_start_ms: null, status: 'confirmed', is_deleted: 0, raw: '{}', created_at: NOW, updated_at: NOW, provider_series_id: null,
    platform: null, provider_calendar_id: null, series_rule: null, meeting_url_given: 1,
  };
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const start = NOW - 365 * DAY + Math.floor((i / EVENTS) * 400 * DAY);
    rows.push({ ...base, id: `evt_p${String(i).padStart(6, '0')}`, title: `event ${i}`, start_ms: start, end_ms: start + HOUR, recurrence: null });
  }
  for (let i = 0; i < SERIES; i++) {
    const start = NOW - 365 * DAY + Math.floor((i / SERIES) * 200 * DAY);
    const until = new Date(start + 30 * DAY).toISOString().replace(/[-:]|\.\d{3}/g, '');
    const lines = i < LIVE ? ['RRULE:FREQ=WEEKLY']
      : [[`RRULE:FREQ=WEEKLY;COUNT=${8 + (i % 13)}`], [`RRULE:FREQ=DAILY;UNTIL=${until}`], ['RRULE:FREQ=WEEKLY;BYDAY=MO,TH;COUNT=20']][i % 3]!;
    const row: Record<string, unknown> = { ...base, id: `evt_s${String(i).padStart(6, '0')}`, title: `series ${i}`, start_ms: start, end_ms: start + HOUR, recurrence: JSON.stringify(lines) };
    if (seriesEndMs) row.series_end_ms = seriesEndMs({ startMs: start, endMs: start + HOUR, timeZone: 'Europe/Berlin', recurrence: lines });
    rows.push(row);
  }
  for (let i = 0; i < rows.length; i += 200) await rc.database.db.insertInto('events').values(rows.slice(i, i + 200) as never).execute();

  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const res = await rc.request('GET', '/api/v1/calendar/events?limit=50', { auth });
    if (res.status !== 200) throw new Error(`GET /calendar/events answered ${res.status}: ${JSON.stringify(res.body)}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`${values.engine}: ${SERIES} series (${LIVE} without end), ${EVENTS} single events${seriesEndMs ? '' : ', no stored series ends'}: `
    + `GET /calendar/events median ${times[Math.floor(RUNS / 2)]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times.at(-1)!.toFixed(0)}, ${RUNS} runs)`);
} finally {
  await rc.close();
}
