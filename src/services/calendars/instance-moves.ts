// Microsoft Graph names an occurrence by its series and its date (AvengeMedia/dankcalendar issue
// 95; odoo/odoo PR 271529 met the same: a whole series shifted in Outlook comes back with new
// instance ids), so a series moved to another day arrives as new instances, without the old ones,
// which the sync then deletes. Before they go, what was booked for each old instance follows the
// new instance that took its place (series-move.ts: the nearest within half the series' spacing):
// the live links of bots not launched yet, so that a bot booked for the meeting keeps its id, key
// and configuration and only moves with it, and the ended links of bots that never launched, so
// that an occurrence the client unscheduled stays without a bot (auto-schedule and batch top-ups
// book only instances that never had one). A bot already in its meeting follows only to a
// replacement that is still that meeting (their times overlap). The reconciliation that follows
// the sync then moves each bot to its new time.
//
// A "this and following" split arrives the same way, except that the new instances belong to a
// new series master (series-split.ts, pickInstanceContinuation, ties it to the old one): the
// links follow into it as above, and a schedule_all_occurrences batch over the old series goes on
// in the new one with the places it has left.
import type { Transaction } from 'kysely';
import type { Engine } from '../../db/database.ts';
import type { EventRow, Schema } from '../../db/schema.ts';
import type { DecisionKind } from '../../domain/decision-kinds.ts';
import { instanceSeriesId, instanceSeriesOf } from '../../domain/instance-series.ts';
import { nearestReplacement, usualSpacingMs } from '../../domain/series-move.ts';
import { pickInstanceContinuation, type InstanceSeriesTraits } from '../../domain/series-split.ts';
import * as bots from '../../store/bot-store.ts';
import { carrySeriesBookings } from '../../store/series-booking-store.ts';
import { carryChain } from '../../store/chain-store.ts';
import { hasGoneToItsMeeting, meetingsNotOver } from '../scheduling/bot-lifecycle.ts';

/**
 * Moves the links of the instances about to be deleted (`gone`) to the instances of the same
 * series that arrived in the same round and replace them. `alive` is every instance left after
 * the round (the series' spacing). Answers the ids of the instances that received links: their
 * bots are to be reconciled.
 */
export async function followMovedInstances(trx: Transaction<Schema>, engine: Engine, now: number, gone: readonly EventRow[], arrivedRows: readonly EventRow[], alive: readonly EventRow[]): Promise<string[]> {
  const goneIds = new Set(gone.map((row) => row.id));
  const arrived = arrivedRows.filter((row) => !goneIds.has(row.id));
  if (arrived.length === 0) return [];
  // The instances not over, and those over that a bot in its meeting holds (a meeting running
  // late, split from: its bot follows into the new series' occurrence that is still that meeting).
  const leaving = await meetingsNotOver(trx, gone, now);
  const leavingBySeries = groupBySeries(leaving);
  if (leavingBySeries.size === 0) return [];
  // Of the instances that arrived, those over only as that meeting (their times overlap).
  const running = leaving.filter((row) => row.end_ms <= now);
  const current = arrived.filter((row) => row.end_ms > now || running.some((old) => overlaps(old, row)));
  // An instance that has a bot already (a new series booked in an earlier round, when a split's
  // halves came in two) takes no other: the old instance's bot goes with it instead.
  const held = await bots.eventsWithLiveLinks(trx, current.map((row) => row.id));
  const arrivedBySeries = groupBySeries(current.filter((row) => row.status !== 'cancelled' && !held.has(row.id)));
  const aliveBySeries = groupBySeries(alive.filter((row) => row.status !== 'cancelled'));
  // Series new in this round (every live instance arrived in it, none went): a split's
  // continuation is one. A series that moved to another day is not, and each new one continues
  // at most one old series, so that no instance receives the bots of two.
  const arrivedIds = new Set(arrived.map((row) => row.id));
  const goneSeries = new Set(groupBySeries(gone).keys());
  const appeared = [...arrivedBySeries.entries()]
    .filter(([seriesId]) => !goneSeries.has(seriesId) && (aliveBySeries.get(seriesId) ?? []).every((row) => arrivedIds.has(row.id)))
    .map(([seriesId, rows]) => traitsOf(seriesId, rows));
  const pairs: LinkMove[] = [];
  for (const [seriesId, leaving] of leavingBySeries) {
    const left = aliveBySeries.get(seriesId) ?? [];
    let free = arrivedBySeries.get(seriesId);
    let spacing = usualSpacingMs(left.map((row) => row.start_ms));
    let isSplit = false;
    if (!free) {
      // The series lost instances and gained none: a split, if a series appeared that continues it.
      spacing = usualSpacingMs([...left, ...leaving].map((row) => row.start_ms));
      const continuation = pickInstanceContinuation({ ...traitsOf(seriesId, leaving), keptStartsMs: left.map((row) => row.start_ms) }, appeared, spacing);
      if (continuation === null) continue;
      appeared.splice(appeared.findIndex((t) => t.seriesId === continuation), 1);
      free = [...arrivedBySeries.get(continuation)!];
      isSplit = true;
      await carrySeriesBookings(trx, seriesId, continuation, now, async (batch) => left.filter((row) => row.end_ms > Number(batch.from_ms)).length);
      await carryChain(trx, seriesId, continuation, now);
    }
    for (const old of leaving.sort((a, b) => a.start_ms - b.start_ms)) {
      // An instance over hands its bot only to one that is still its meeting (their times overlap).
      const fits = old.end_ms > now ? free : free.filter((row) => overlaps(old, row));
      const start = nearestReplacement(old.start_ms, fits.map((row) => row.start_ms), spacing);
      if (start === undefined) continue;
      const replacement = fits.find((row) => row.start_ms === start)!;
      free.splice(free.indexOf(replacement), 1);
      pairs.push({ old, replacement, why: isSplit ? 'series_split' : 'moved_occurrence' });
    }
  }
  return moveLinks(trx, engine, now, pairs);
}

/** An event that goes and the event that takes its bots: why decides the decision the bots get. */
export interface LinkMove {
  old: EventRow;
  replacement: EventRow;
  why: 'series_split' | 'moved_occurrence' | 'moved_calendar';
}

/** What pickInstanceContinuation reads of a series' instances (the first one's meeting, title and organizer). */
function traitsOf(seriesId: string, rows: readonly EventRow[]): InstanceSeriesTraits {
  const first = [...rows].sort((a, b) => a.start_ms - b.start_ms)[0];
  return { seriesId, startsMs: rows.map((row) => row.start_ms), meetingIdentity: first?.meeting_identity ?? null, title: first?.title ?? null, organizer: first ? organizerOf(first.raw) : null };
}

/**
 * The organizer's address of a Graph event (organizer.emailAddress.address) or a Google one
 * (organizer.email), lower-cased; `raw` as stored (JSON) or as fetched.
 */
export function organizerOf(raw: unknown): string | null {
  try {
    const event = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { organizer?: { email?: unknown; emailAddress?: { address?: unknown } } } | null;
    const address = event?.organizer?.emailAddress?.address ?? event?.organizer?.email;
    return typeof address === 'string' ? address.toLowerCase() : null;
  } catch {
    return null;
  }
}

/**
 * Moves the links that follow (see above) from each old instance to its replacement: live links
 * of bots not launched yet, ended links of bots that never launched, and the live link of a bot
 * already in its meeting when the replacement is that same meeting still (their times overlap:
 * a split from the occurrence under way; from an old instance past its end, the meeting link the
 * same too, and only a bot that has gone to its meeting). Every bot concerned is locked first, in
 * id order.
 * Answers the replacements that received links.
 */
export async function moveLinks(trx: Transaction<Schema>, engine: Engine, now: number, pairs: readonly LinkMove[]): Promise<string[]> {
  if (pairs.length === 0) return [];
  const byOld = new Map(pairs.map((pair) => [pair.old.id, pair]));
  const oldIds = [...byOld.keys()];
  const candidates = [];
  for (let i = 0; i < oldIds.length; i += 500) {
    candidates.push(...await trx.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.id', 'bot_events.bot_id', 'bot_events.event_id', 'bot_events.is_live', 'bots.launched_at', 'bots.status'])
      .where('bot_events.event_id', 'in', oldIds.slice(i, i + 500))
      .where((eb) => eb.or([eb('bot_events.is_live', '=', 1), eb.and([eb('bots.launched_at', 'is', null), eb('bot_events.start_ms', '>', now)])]))
      .orderBy('bot_events.id').execute());
  }
  const links = [];
  for (const link of candidates) {
    const { old, replacement } = byOld.get(link.event_id)!;
    // From an event over, only a bot in its meeting follows, and only to that same meeting (times
    // overlapping, the same meeting link): no other bot is taken back, and none is sent elsewhere.
    if (old.end_ms <= now) {
      if (isSameMeetingStill(old, replacement) && await hasGoneToItsMeeting(trx, { id: link.bot_id, status: link.status, launched_at: link.launched_at })) links.push(link);
    } else if (link.launched_at === null || (link.is_live === 1 && overlaps(old, replacement))) links.push(link);
  }
  if (links.length === 0) return [];
  // Bots before their links, in id order: the order every path that changes both follows.
  await bots.lockBots(trx, engine, [...new Set(links.map((l) => l.bot_id))]);
  const received = new Set<string>();
  for (const link of links) {
    const { old, replacement, why } = byOld.get(link.event_id)!;
    received.add(replacement.id);
    if (link.is_live === 0) {
      // updated_at stays, as when an ended link follows a re-timed series: the bot is untouched.
      await trx.updateTable('bot_events').set({ event_id: replacement.id }).where('id', '=', link.id).execute();
      continue;
    }
    await trx.updateTable('bot_events').set({ event_id: replacement.id, updated_at: now }).where('id', '=', link.id).execute();
    const [kind, reason]: [DecisionKind, string] = ({
      series_split: ['followed_series_split', `The series of event ${old.id} was split at the provider ("this and following events"), which made the later occurrences a new series; the bot follows its occurrence there, event ${replacement.id}`],
      moved_occurrence: ['followed_moved_occurrence', `The series of event ${old.id} moved to another day at the provider, which gave its occurrence a new id; the bot follows event ${replacement.id}`],
      moved_calendar: ['followed_moved_event', `The meeting of event ${old.id} moved to another synced calendar of the account (${replacement.provider_calendar_id ?? 'unknown'}); the bot follows it there, event ${replacement.id}`],
    } satisfies Record<LinkMove['why'], [DecisionKind, string]>)[why];
    await bots.appendDecision(trx, link.bot_id, now, kind, reason, { from_event_id: old.id, to_event_id: replacement.id });
  }
  return [...received];
}

/** Whether `replacement` is still the meeting a bot in `old`'s meeting is in: the same meeting link, times overlapping. */
function isSameMeetingStill(old: EventRow, replacement: EventRow): boolean {
  return old.meeting_identity !== null && replacement.meeting_identity === old.meeting_identity && overlaps(old, replacement);
}

/** Whether the two events' times overlap. */
function overlaps(a: Pick<EventRow, 'start_ms' | 'end_ms'>, b: Pick<EventRow, 'start_ms' | 'end_ms'>): boolean {
  return b.start_ms < a.end_ms && b.end_ms > a.start_ms;
}

/** Instances by their series (instanceSeriesId). */
function groupBySeries(rows: readonly EventRow[]): Map<string, EventRow[]> {
  const groups = new Map<string, EventRow[]>();
  for (const row of rows) {
    const series = row.recurring_event_id === null ? instanceSeriesOf(row) : null;
    if (!series) continue;
    const id = instanceSeriesId(series);
    const group = groups.get(id);
    if (group) group.push(row);
    else groups.set(id, [row]);
  }
  return groups;
}
