// A series written in a zone read from its own VTIMEZONE rules (observed-offsets.ts), made into
// one that domain/recurrence.ts expands in an IANA zone.
//
// A series is stored with an IANA zone, and no IANA zone keeps the VTIMEZONE's rules. So it is
// stored in a stand-in zone (a fixed offset, the one in use at its start) and, inside a window of
// years, corrected: the occurrences the stand-in zone puts elsewhere than the VTIMEZONE's rules
// are removed (EXDATE, in UTC) and the right ones added (RDATE, in UTC). Inside the window the
// series then has exactly the occurrences its own rules give, keyed by their real starts; after
// the window it goes on at the stand-in offset, which the caller says in a warning.
import { compileSeries, occurrenceKey, type SeriesDefinition } from './recurrence.ts';
import type { ObservedOffsets } from './observed-offsets.ts';

export interface ObservedSeries {
  /** The series' lines as stored: RRULE, and EXDATE/RDATE already turned into instants. */
  lines: string[];
  /** DTSTART's instant (read with the VTIMEZONE's rules) and the first occurrence's end. */
  startMs: number;
  endMs: number;
  /** The stand-in IANA zone the series is stored in. */
  zone: string;
  /** DTSTART as the local time written, as if it were UTC. */
  wallStartMs: number;
  offsets: ObservedOffsets;
}

export interface Corrected {
  lines: string[];
  /** Up to when the occurrences follow the VTIMEZONE's rules (the window's end, or sooner when the series is too dense). */
  correctUntilMs: number;
  /** Occurrences moved (each is one EXDATE and one RDATE). */
  moved: number;
  /** Whether the series has occurrences from correctUntilMs on (which keep the stand-in zone's offset). */
  goesOn: boolean;
  /** Occurrences generated to place it (the work done). */
  generated: number;
}

/** Occurrences generated between two yields of placeByObservedRules. */
const INSTANCES_PER_STEP = 10;

/** followObservedRules in one go (tests, small series). */
export function followObservedRules(series: ObservedSeries, window: { fromMs: number; toMs: number }, maxInstances: number): Corrected {
  const steps = placeByObservedRules(series, window, maxInstances);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The lines of `series` with the occurrences in [fromMs, toMs) put where the VTIMEZONE's rules
 * put them. At most `maxInstances` occurrences are generated each way; a denser series is
 * corrected only as far as that reaches. A generator: it yields (nothing) every few occurrences,
 * as generating one costs a fraction of a millisecond, so that the caller can give the event
 * loop a turn.
 */
export function* placeByObservedRules(series: ObservedSeries, window: { fromMs: number; toMs: number }, maxInstances: number): Generator<void, Corrected> {
  const rrule = series.lines.find((line) => line.startsWith('RRULE:'));
  if (rrule === undefined) return { lines: series.lines, correctUntilMs: window.toMs, moved: 0, goesOn: false, generated: 0 };
  const lengthMs = series.endMs - series.startMs;
  // Where the VTIMEZONE puts the series: the rule expanded in local time, each local time read
  // with the VTIMEZONE's offsets. An UNTIL in UTC is moved into local time with the offset at it.
  const localRule = rrule.replace(/UNTIL=(\d{8}T\d{6})Z/i, (_, until: string) => {
    const ms = parseBasic(until);
    return `UNTIL=${occurrenceKey(ms + series.offsets.offsetAt(ms))}`;
  });
  const local = { startMs: series.wallStartMs, endMs: series.wallStartMs + lengthMs, timeZone: 'UTC', recurrence: [localRule] };
  const walls = yield* startsInSteps(local, { fromMs: window.fromMs - 2 * 86_400_000, toMs: window.toMs + 2 * 86_400_000 }, maxInstances);
  // Where the stand-in zone puts it (as recurrence.ts will expand it): with a fixed offset that
  // keeps DTSTART's local time, the same local times at that offset.
  const fixed = FIXED_OFFSET_ZONE.exec(series.zone);
  const fixedOffsetMs = series.zone === 'UTC' ? 0 : fixed ? (fixed[1] === '-' ? 1 : -1) * Number(fixed[2]) * 3_600_000 : null;
  const standOffsetMs = fixedOffsetMs !== null && series.startMs + fixedOffsetMs === series.wallStartMs ? fixedOffsetMs : null;
  const placed = standOffsetMs !== null
    ? []
    : yield* startsInSteps({ startMs: series.startMs, endMs: series.endMs, timeZone: series.zone, recurrence: [rrule] }, window, maxInstances);
  let correctUntilMs = window.toMs;
  if (placed.length >= maxInstances) correctUntilMs = Math.min(correctUntilMs, placed.at(-1)!);
  if (walls.length >= maxInstances) correctUntilMs = Math.min(correctUntilMs, walls.at(-1)! - 2 * 86_400_000);
  const inWindow = (ms: number) => ms >= window.fromMs && ms < correctUntilMs;
  const removed: number[] = [];
  const added: number[] = [];
  if (standOffsetMs !== null) {
    // Decided per local time, so that one occurrence is never half moved at the window's edges: when
    // either its real instant or the stand-in's is inside, the stand-in's goes and the real one comes.
    for (let i = 0; i < walls.length; i++) {
      const ms = series.offsets.instantOf(walls[i]!);
      const stand = walls[i]! - standOffsetMs;
      if (ms !== stand && (inWindow(ms) || inWindow(stand))) {
        removed.push(stand);
        added.push(ms);
      }
      if (i % (4 * INSTANCES_PER_STEP) === 0) yield;
    }
  } else {
    // A stand-in zone that is not a fixed offset of the start (an offset no IANA zone keeps, read
    // as UTC): its occurrences are not paired with local times, and are compared as sets.
    const ruled: number[] = [];
    for (let i = 0; i < walls.length; i++) {
      const ms = series.offsets.instantOf(walls[i]!);
      if (inWindow(ms)) ruled.push(ms);
      if (i % (4 * INSTANCES_PER_STEP) === 0) yield;
    }
    const placedSet = new Set(placed.filter(inWindow));
    const ruledSet = new Set(ruled);
    removed.push(...[...placedSet].filter((ms) => !ruledSet.has(ms)));
    added.push(...ruled.filter((ms) => !placedSet.has(ms)));
  }
  const lines = [...series.lines];
  if (removed.length > 0) lines.push(`EXDATE:${removed.map(occurrenceKey).join(',')}`);
  if (added.length > 0) lines.push(`RDATE:${added.map(occurrenceKey).join(',')}`);
  // A local time two days past the end, whatever the offset, names an occurrence after it.
  const later = yield* startsInSteps(local, { fromMs: correctUntilMs + 2 * 86_400_000, toMs: correctUntilMs + 100 * 366 * 86_400_000 }, 1);
  const generated = walls.length + placed.length + later.length;
  return { lines, correctUntilMs, moved: Math.max(removed.length, added.length), goesOn: later.length > 0, generated };
}

/** Etc/GMT+5 is UTC-05:00 (the sign reversed, as POSIX writes it). */
const FIXED_OFFSET_ZONE = /^Etc\/GMT([+-])(\d{1,2})$/;

const DAY_MS = 86_400_000;
/** Occurrences one library call may generate before the next window is made smaller. */
const INSTANCES_PER_CALL = 20;
/** A rule with more occurrences than this in one day is not a meeting series; it is not placed. */
const MAX_PER_DAY = 100;

/**
 * The original starts of `series` in `window`, at most `limit`, yielding every few. Generated
 * window by window (a week at first, longer while the rule is sparse, shorter while it is dense),
 * as one library call generates all of its window in one go: over three years, a daily rule's
 * thousand occurrences held the event loop about 80 ms.
 */
function* startsInSteps(series: SeriesDefinition, window: { fromMs: number; toMs: number }, limit: number): Generator<void, number[]> {
  const compiled = compileSeries(series);
  // A COUNT rule is counted from its start first, in steps (as the series' other readers do).
  for (const _ of compiled.walkUntil(window.toMs)) yield;
  const starts: number[] = [];
  let spanMs = 7 * DAY_MS;
  for (let from = window.fromMs; from < window.toMs && starts.length < limit;) {
    const to = Math.min(from + spanMs, window.toMs);
    let found = 0;
    for (const occurrence of compiled.overlappingInSteps({ fromMs: from, toMs: to })) {
      if (occurrence === null) {
        yield;
        continue;
      }
      if (occurrence.originalStartMs < from || occurrence.originalStartMs >= to) continue;
      starts.push(occurrence.originalStartMs);
      found++;
      if (starts.length >= limit) break;
      if (starts.length % INSTANCES_PER_STEP === 0) yield;
    }
    if (found > MAX_PER_DAY * Math.ceil((to - from) / DAY_MS)) throw new RangeError(`the rule has more than ${MAX_PER_DAY} occurrences a day`);
    if (found > INSTANCES_PER_CALL) spanMs = Math.max(DAY_MS, spanMs / 2);
    else if (found < INSTANCES_PER_CALL / 5) spanMs = Math.min(366 * DAY_MS, spanMs * 2);
    from = to;
    yield;
  }
  return starts;
}

function parseBasic(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(text)!;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}
