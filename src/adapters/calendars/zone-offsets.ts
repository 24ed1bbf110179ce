// The IANA zones' UTC offsets, for comparing a feed's VTIMEZONE with them (ics-parser.ts,
// matchZone and standInZone). Written by hand: no library maps a VTIMEZONE's rules to the IANA
// zone that keeps them, so every zone the runtime knows (about 420) is tried.
//
// An offset is read through one Intl.DateTimeFormat per zone (Intl rather than Temporal, as
// hundreds of zones are tried). Building those formatters was most of the cost of a first
// comparison: 50-60 ms for all of them, 60-140 ms with the first comparison's other work, on a
// quiet machine. So they are built in steps of ZONES_PER_STEP zones with the event loop's turns
// between them (zoneOffsetsAt): at start-up (warmUpZoneOffsets, main.ts), and by a parse that
// needs them before the warm-up has finished, which carries on from where the warm-up stopped.
//
// Most zones differ from a VTIMEZONE at the first instant compared, so the offset of every zone
// at that instant (the 15th of a month at 12:00 UTC: the same one for a month) is read once and
// kept; a comparison reads the other instants only for the few zones that agree at that one.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Zones whose offsets are read between two yields: 2-4 ms when their formatters are new. */
export const ZONES_PER_STEP = 25;
/** Instants whose offsets are kept (one a month is used; the one before stays while a parse still uses it). */
const INSTANTS_KEPT = 4;

const formats = new Map<string, Intl.DateTimeFormat>();

/** A zone's UTC offset at an instant, in milliseconds. Throws for a zone the runtime does not know. */
export function zoneOffsetAt(zone: string, atMs: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    formats.set(zone, format);
  }
  const name = format.formatToParts(atMs).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(name);
  if (!match) return 0;
  const ms = ((+match[2]! * 60 + +match[3]!) * 60 + +(match[4] ?? 0)) * 1000;
  return match[1] === '-' ? -ms : ms;
}

let zoneList: readonly string[] | null = null;

/** The IANA zones the runtime knows, in its order. */
export function ianaZones(): readonly string[] {
  zoneList ??= Intl.supportedValuesOf('timeZone');
  return zoneList;
}

/** The 15th of the month `monthsFromNow` months from `nowMs`'s, at 12:00 UTC: the instant kept per month. */
export function monthlyInstant(nowMs: number, monthsFromNow: number): number {
  const now = new Date(nowMs);
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + monthsFromNow, 15, 12);
}

interface OffsetsAt {
  /** Each zone's offset at the instant; a zone the runtime cannot read is left out. */
  readonly byZone: Map<string, number>;
  /** Zones of ianaZones() read so far (a build stopped half-way is carried on from here). */
  read: number;
}

const offsetsByInstant = new Map<number, OffsetsAt>();

/**
 * Every IANA zone's offset at `atMs`, read ZONES_PER_STEP zones at a time with a yield between:
 * run with the event loop's turns between the steps (ics-parser.ts's parse is), it never holds the
 * loop for the formatters' build. At once when they are already read.
 */
export function* zoneOffsetsAt(atMs: number): Generator<void, ReadonlyMap<string, number>> {
  let offsets = offsetsByInstant.get(atMs);
  if (!offsets) {
    if (offsetsByInstant.size >= INSTANTS_KEPT) offsetsByInstant.delete(offsetsByInstant.keys().next().value!);
    offsets = { byZone: new Map(), read: 0 };
    offsetsByInstant.set(atMs, offsets);
  }
  const zones = ianaZones();
  while (offsets.read < zones.length) {
    const end = Math.min(zones.length, offsets.read + ZONES_PER_STEP);
    for (; offsets.read < end; offsets.read++) {
      const zone = zones[offsets.read]!;
      try {
        offsets.byZone.set(zone, zoneOffsetAt(zone, atMs));
      } catch {
        // a zone this runtime lists but cannot format: no zone to offer
      }
    }
    if (offsets.read < zones.length) yield;
  }
  return offsets.byZone;
}

/** Whether every zone's offset at `atMs` has been read (zoneOffsetsAt then returns at once). */
export function hasZoneOffsetsAt(atMs: number): boolean {
  return (offsetsByInstant.get(atMs)?.read ?? 0) >= ianaZones().length;
}

/**
 * A zone's offset at `atMs` from the offsets kept for that instant, else read; throws for a zone
 * the runtime does not know, as zoneOffsetAt does.
 */
export function keptZoneOffsetAt(zone: string, atMs: number): number {
  return offsetsByInstant.get(atMs)?.byZone.get(zone) ?? zoneOffsetAt(zone, atMs);
}

/**
 * Builds every zone's formatter, and reads the offsets of this month's comparisons' first
 * instant (ics-parser.ts, matchZone), a step at a time with a turn of the event loop after each,
 * so that the first feed to need a comparison does not pay for it. Never throws.
 */
export async function warmUpZoneOffsets(nowMs: number): Promise<void> {
  try {
    const steps = zoneOffsetsAt(monthlyInstant(nowMs, FIRST_COMPARED_MONTH));
    while (!steps.next().done) await nextTurn();
  } catch {
    // the comparisons build what they lack in the same steps
  }
}

/** The month of a comparison's first instant, from now (ics-parser.ts samples the last year and the next two). */
export const FIRST_COMPARED_MONTH = -12;
