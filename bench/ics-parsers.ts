// npx node bench/ics-parsers.ts [--modules=DIR] [--baseline=DIR] [--parsers=rollcall,ical.js,...]
//
// Measures ICS feed parsing the way docs/ics-parsing.md reports it: Rollcall's parser (this
// tree, and optionally another tree's, e.g. an older commit unpacked with `git archive`) against
// ical.js and node-ical, which are not dependencies: install them anywhere
// (`npm install --prefix /tmp/parsers ical.js node-ical`) and pass --modules=/tmp/parsers/node_modules.
//
// - Time, peak RSS and the longest event-loop stall (test/support/stall-probe.ts: busy = CPU time
//   of the main thread without a turn of the loop, wall = the longest gap) for each parser on a
//   realistic 5,000-event feed and on hostile ones; each run in its own process (a hostile feed
//   may exhaust the heap), with a 1 GiB heap and a 90 s deadline, after a warm-up parse.
// - Correctness on the cases of src/adapters/calendars/ics-parser.test.ts, under TZ=UTC and
//   TZ=America/Los_Angeles (a result that depends on the host zone is wrong).
// It measures; it never fails on a figure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { realisticFeed, nestedFeed, oversizedEventFeed, feedOf } from '../test/support/fake-ics.ts';
import { measureStall } from '../test/support/stall-probe.ts';

const NOW = Date.parse('2026-11-20T00:00:00Z');
const here = new URL('..', import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    modules: { type: 'string' },
    baseline: { type: 'string' },
    child: { type: 'string' },
    feed: { type: 'string' },
    correctness: { type: 'boolean', default: false },
    parsers: { type: 'string' },
  },
});

/** The minimum every parser is asked for: each VEVENT's identity, times and texts. */
interface Parsed {
  uid: string;
  recurrenceIdMs: number | null;
  startMs: number;
  endMs: number;
  title: string | null;
  description: string | null;
  /** Occurrence starts of a series within 2026, when the parser can expand it. */
  expand?: (fromMs: number, toMs: number) => number[];
}

type Parser = (text: string) => Promise<Parsed[]>;

async function loadParser(name: string): Promise<Parser> {
  if (name === 'rollcall' || name === 'rollcall-baseline') {
    const root = name === 'rollcall' ? here : resolve(values.baseline!);
    const parser = await import(join(root, 'src/adapters/calendars/ics-parser.ts'));
    const recurrence = await import(join(root, 'src/domain/recurrence.ts'));
    return async (text) => {
      const feed = parser.parseIcsYielding ? await parser.parseIcsYielding(text, { nowMs: NOW }) : parser.parseIcs(text, { nowMs: NOW });
      return feed.events.map((e: any): Parsed => ({
        uid: e.seriesProviderEventId ?? e.providerEventId,
        recurrenceIdMs: e.originalStartMs,
        startMs: e.startMs,
        endMs: e.endMs,
        title: e.title,
        description: e.description,
        ...(e.recurrence ? { expand: (fromMs: number, toMs: number) => recurrence.expandSeries({ startMs: e.startMs, endMs: e.endMs, timeZone: e.timeZone, recurrence: e.recurrence }, { fromMs, toMs }).map((o: any) => o.startMs) } : {}),
      }));
    };
  }
  const require = createRequire(join(resolve(values.modules ?? join(here, 'node_modules')), 'index.js'));
  if (name === 'ical.js') {
    const ICAL = require('ical.js');
    return async (text) => {
      // ical.js reads a TZID only through zones registered beforehand (anchors: unregistered ones
      // are floating), so every VTIMEZONE of the feed is registered first.
      ICAL.TimezoneService.reset();
      const calendar = new ICAL.Component(ICAL.parse(text));
      for (const zone of calendar.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(zone);
      const out: Parsed[] = [];
      for (const vevent of calendar.getAllSubcomponents('vevent')) {
        try {
          const event = new ICAL.Event(vevent);
          out.push({
            uid: event.uid,
            recurrenceIdMs: event.recurrenceId ? event.recurrenceId.toJSDate().getTime() : null,
            startMs: event.startDate.toJSDate().getTime(),
            endMs: event.endDate.toJSDate().getTime(),
            title: event.summary ?? null,
            description: event.description ?? null,
            ...(event.isRecurring() ? {
              expand: (fromMs: number, toMs: number) => {
                const starts: number[] = [];
                const iterator = event.iterator();
                for (let next = iterator.next(), n = 0; next && n < 10_000; next = iterator.next(), n++) {
                  const ms = next.toJSDate().getTime();
                  if (ms >= toMs) break;
                  if (ms >= fromMs) starts.push(ms);
                }
                return starts;
              },
            } : {}),
          });
        } catch {
          // a VEVENT ical.js cannot read is skipped, as Rollcall skips one
        }
      }
      return out;
    };
  }
  if (name === 'node-ical') {
    const ical = require('node-ical');
    return async (text) => {
      const data = await ical.async.parseICS(text);
      const out: Parsed[] = [];
      for (const item of Object.values<any>(data)) {
        if (item?.type !== 'VEVENT') continue;
        const base = (event: any, recurrenceIdMs: number | null): Parsed => ({
          uid: event.uid,
          recurrenceIdMs,
          startMs: new Date(event.start).getTime(),
          endMs: new Date(event.end ?? event.start).getTime(),
          title: typeof event.summary === 'string' ? event.summary : event.summary?.val ?? null,
          description: typeof event.description === 'string' ? event.description : event.description?.val ?? null,
        });
        out.push({
          ...base(item, null),
          ...(item.rrule ? { expand: (fromMs: number, toMs: number) => ical.expandRecurringEvent(item, { from: new Date(fromMs), to: new Date(toMs - 1) }).map((i: any) => new Date(i.start).getTime()) } : {}),
        });
        for (const override of Object.values<any>(item.recurrences ?? {})) out.push(base(override, new Date(override.recurrenceid).getTime()));
      }
      return out;
    };
  }
  throw new Error(`unknown parser ${name}`);
}

// ---------------------------------------------------------------------------------------------
// One measurement, in a child process

async function runChild(parserName: string, feedFile: string): Promise<void> {
  const parse = await loadParser(parserName);
  // Warm up first (module loading, lazy initialisation), so that only parsing is measured.
  await parse(CASES[0]!.feed);
  await parse(realisticFeed({ events: 20, nowMs: NOW }));
  const text = readFileSync(feedFile, 'utf8');
  const measured = await measureStall(async () => {
    try {
      return { events: (await parse(text)).length };
    } catch (error) {
      return { error: (error as Error).message.slice(0, 160) };
    }
  });
  process.stdout.write(`${JSON.stringify({
    ...measured.result, ms: measured.elapsedMs, stall_busy_ms: measured.stall.busyMs, stall_wall_ms: measured.stall.wallMs,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`);
}

function measure(parserName: string, feedFile: string): Record<string, unknown> {
  const child = spawnSync(process.execPath, ['--max-old-space-size=1024', new URL(import.meta.url).pathname, `--child=${parserName}`, `--feed=${feedFile}`,
    ...(values.modules ? [`--modules=${values.modules}`] : []), ...(values.baseline ? [`--baseline=${values.baseline}`] : [])], { encoding: 'utf8', timeout: 90_000, maxBuffer: 1 << 20 });
  const line = child.stdout.trim().split('\n').at(-1);
  if (child.status === 0 && line) return JSON.parse(line) as Record<string, unknown>;
  const reason = child.error ? 'killed after 90 s' : /heap out of memory/i.test(child.stderr) ? 'heap out of memory' : `exit ${child.status}`;
  return { error: reason };
}

// ---------------------------------------------------------------------------------------------
// Correctness: the parser unit-test cases, as instants

const at = (iso: string) => Date.parse(iso);
const vtimezone = (tzid: string) => [
  'BEGIN:VTIMEZONE', `TZID:${tzid}`,
  'BEGIN:STANDARD', 'DTSTART:16011104T020000', 'RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'END:STANDARD',
  'BEGIN:DAYLIGHT', 'DTSTART:16010311T020000', 'RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3', 'TZOFFSETFROM:-0500', 'TZOFFSETTO:-0400', 'END:DAYLIGHT',
  'END:VTIMEZONE',
];
const CASES: Array<{ name: string; feed: string; check: (events: Parsed[]) => boolean }> = [
  {
    name: 'folding and text escapes',
    feed: feedOf(['BEGIN:VEVENT', 'UID:1', 'DTSTART:20261124T140000Z', 'DTEND:20261124T150000Z', 'SUMMARY:Budget\\, Q4\\; final', 'DESCRIPTION:Line one\\nJoin https://meet.google.com/abc-defg-hij', 'END:VEVENT']),
    check: (e) => e[0]?.title === 'Budget, Q4; final' && e[0]?.description === 'Line one\nJoin https://meet.google.com/abc-defg-hij',
  },
  {
    name: 'UTC with DURATION; TZID Europe/Berlin',
    feed: feedOf(['BEGIN:VEVENT', 'UID:utc', 'DTSTART:20261124T140000Z', 'DURATION:PT45M', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:tz', 'DTSTART;TZID=Europe/Berlin:20261124T090000', 'DTEND;TZID=Europe/Berlin:20261124T100000', 'END:VEVENT']),
    check: (e) => e.find((x) => x.uid === 'utc')?.endMs === at('2026-11-24T14:45:00Z') && e.find((x) => x.uid === 'tz')?.startMs === at('2026-11-24T08:00:00Z'),
  },
  {
    name: 'TZID naming an IANA zone without a VTIMEZONE',
    feed: feedOf(['BEGIN:VEVENT', 'UID:bare', 'DTSTART;TZID=America/New_York:20261124T090000', 'DTEND;TZID=America/New_York:20261124T100000', 'END:VEVENT']),
    check: (e) => e[0]?.startMs === at('2026-11-24T14:00:00Z'),
  },
  {
    name: 'floating time and all-day date in the feed\'s X-WR-TIMEZONE',
    feed: feedOf(['X-WR-TIMEZONE:America/New_York', 'BEGIN:VEVENT', 'UID:floating', 'DTSTART:20261124T090000', 'DTEND:20261124T093000', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:allday', 'DTSTART;VALUE=DATE:20261126', 'END:VEVENT']),
    check: (e) => e.find((x) => x.uid === 'floating')?.startMs === at('2026-11-24T14:00:00Z') && e.find((x) => x.uid === 'allday')?.startMs === at('2026-11-26T05:00:00Z'),
  },
  {
    name: 'VTIMEZONE with a Windows name and with a made-up name',
    feed: feedOf([...vtimezone('Eastern Standard Time'), ...vtimezone('Company HQ time'),
      'BEGIN:VEVENT', 'UID:win', 'DTSTART;TZID=Eastern Standard Time:20260706T090000', 'DTEND;TZID=Eastern Standard Time:20260706T100000', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:custom', 'DTSTART;TZID=Company HQ time:20260706T090000', 'DTEND;TZID=Company HQ time:20260706T100000', 'END:VEVENT']),
    check: (e) => e.find((x) => x.uid === 'win')?.startMs === at('2026-07-06T13:00:00Z') && e.find((x) => x.uid === 'custom')?.startMs === at('2026-07-06T13:00:00Z'),
  },
  {
    name: 'RRULE + EXDATE + RDATE across the October DST change (Berlin)',
    feed: feedOf(['BEGIN:VEVENT', 'UID:weekly', 'DTSTART;TZID=Europe/Berlin:20261019T090000', 'DTEND;TZID=Europe/Berlin:20261019T100000',
      'RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE;TZID=Europe/Berlin:20261102T090000', 'RDATE;TZID=Europe/Berlin:20261030T090000', 'END:VEVENT']),
    check: (e) => JSON.stringify(e[0]?.expand?.(at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'))) === JSON.stringify(
      ['2026-10-19T07:00:00Z', '2026-10-26T08:00:00Z', '2026-10-30T08:00:00Z', '2026-11-09T08:00:00Z'].map(at)),
  },
  {
    name: 'RECURRENCE-ID override',
    feed: feedOf(['BEGIN:VEVENT', 'UID:s', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', 'RRULE:FREQ=DAILY;COUNT=5', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID:20261125T090000Z', 'DTSTART:20261125T120000Z', 'DTEND:20261125T130000Z', 'END:VEVENT']),
    check: (e) => e.find((x) => x.recurrenceIdMs === at('2026-11-25T09:00:00Z'))?.startMs === at('2026-11-25T12:00:00Z'),
  },
  {
    name: 'unknown TZID without VTIMEZONE is read the same on every host (Rollcall: as UTC)',
    feed: feedOf(['BEGIN:VEVENT', 'UID:c', 'DTSTART;TZID=Mars/Olympus:20261124T090000', 'DTEND;TZID=Mars/Olympus:20261124T100000', 'END:VEVENT']),
    check: (e) => e[0]?.startMs === at('2026-11-24T09:00:00Z'),
  },
  {
    name: 'a broken VEVENT is skipped, the rest kept',
    feed: feedOf(['BEGIN:VEVENT', 'UID:bad', 'DTSTART:not-a-date', 'END:VEVENT', 'BEGIN:VEVENT', 'UID:good', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', 'END:VEVENT']),
    check: (e) => e.some((x) => x.uid === 'good' && x.startMs === at('2026-11-24T09:00:00Z')) && !e.some((x) => x.uid === 'bad' && Number.isFinite(x.startMs)),
  },
];

async function runCorrectness(parsers: string[]): Promise<void> {
  const results: Record<string, Record<string, boolean>> = {};
  for (const name of parsers) {
    let parse: Parser;
    try {
      parse = await loadParser(name);
    } catch {
      continue;
    }
    results[name] = {};
    for (const c of CASES) {
      let ok = false;
      try {
        ok = c.check(await parse(c.feed));
      } catch {
        ok = false;
      }
      results[name][c.name] = ok;
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

// ---------------------------------------------------------------------------------------------

if (values.child) {
  await runChild(values.child, values.feed!);
} else if (values.correctness) {
  await runCorrectness(['rollcall', 'rollcall-baseline', 'ical.js', 'node-ical'].filter((p) => p !== 'rollcall-baseline' || values.baseline));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-ics-bench-'));
  try {
    const feeds: Record<string, string> = {
      'realistic, 5,000 events': realisticFeed({ events: 5000, nowMs: NOW }),
      'nested 40,000 deep (640 KB)': nestedFeed(40_000),
      'one event, 19 MB description': oversizedEventFeed({ descriptionBytes: 19 * 1024 * 1024, startMs: NOW + 86_400_000, meetingUrl: 'https://zoom.us/j/1234567890' }),
    };
    const parsers = values.parsers?.split(',') ?? ['rollcall', ...(values.baseline ? ['rollcall-baseline'] : []), 'ical.js', 'node-ical'];
    for (const [label, text] of Object.entries(feeds)) {
      const file = join(dir, `${label.replace(/\W+/g, '-')}.ics`);
      writeFileSync(file, text);
      process.stdout.write(`\n${label}: ${(text.length / 1_048_576).toFixed(1)} MiB\n`);
      for (const parser of parsers) process.stdout.write(`  ${parser.padEnd(18)} ${JSON.stringify(measure(parser, file))}\n`);
    }
    for (const tz of ['UTC', 'America/Los_Angeles']) {
      const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--correctness', ...(values.modules ? [`--modules=${values.modules}`] : []), ...(values.baseline ? [`--baseline=${values.baseline}`] : [])], { encoding: 'utf8', env: { ...process.env, TZ: tz } });
      process.stdout.write(`\ncorrectness on the parser test cases, TZ=${tz}\n`);
      const results = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, Record<string, boolean>>;
      for (const [parser, cases] of Object.entries(results)) {
        const failed = Object.entries(cases).filter(([, ok]) => !ok).map(([name]) => name);
        process.stdout.write(`  ${parser.padEnd(18)} ${Object.keys(cases).length - failed.length}/${Object.keys(cases).length}${failed.length ? `  failed: ${failed.join('; ')}` : ''}\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
