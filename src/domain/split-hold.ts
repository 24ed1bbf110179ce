// Outlook writes "this and following events" as two changes: the old series' recurrence range is
// cut to end before the edited occurrence, and a new series is made from that occurrence on
// (odoo/odoo PR 260329). Graph can bring the first in one delta round and the second in the next.
// When the old series keeps an instance in the sync window (a daily series does), the first round
// brings its master with its list of instances, the edited occurrence gone from it and nothing
// yet to continue it. If a bot has gone to that occurrence's meeting (it is under way, perhaps
// past its scheduled end), deleting it would stop the bot in the middle of the meeting, and the
// new series a round later would book another one into it.
//
// So such an instance is held rather than deleted: kept as stored, its bot left where it is, for
// the hour a split's second half may take (SPLIT_SECOND_HALF_MS, the hour a new series is also
// remembered for). A round of that hour that brings a new series continuing it ties the two as a
// split in one round would (series-split.ts), its bot following. Past the hour, with nothing
// continuing it, the instance is deleted as it would have been at once.
//
// Only a cut range is a split's first half: an occurrence its organizer cancels leaves the range
// as it was (Graph lists it in the master's cancelledOccurrences, learn.microsoft.com/en-us/graph/
// api/resources/event), and is deleted at once, its bot stopped.

import { isRangeCut } from './series-split.ts';
import { storedListEntries } from './stored-list.ts';

/** How long the two halves of an Outlook split may reach Rollcall apart. */
export const SPLIT_SECOND_HALF_MS = 60 * 60_000;

/** Held instances kept at most per calendar (each holds a bot in its meeting: few ever are). */
export const MAX_HELD_INSTANCES = 100;

export interface HeldInstance {
  /** The stored event (events.id). */
  eventId: string;
  /** Deleted at the first round from this time on, unless a new series continued it before. */
  untilMs: number;
}

/** An instance a round is about to delete because its series' list left it out. */
export interface MissingInstance {
  eventId: string;
  seriesId: string;
  /** The rule its series had when it was last written (the round has not written it). */
  storedRule: string | null | undefined;
}

/**
 * Of the instances the round would delete, those it holds if a bot that has gone to its meeting
 * holds them (the caller asks, after the round's split rules took what they continue): each held
 * already and not expired, and each whose series' rule in this round (`roundRules`) ends earlier
 * than the rule stored with it. Answers the holds they have from then on: a new one ends an hour
 * from `nowMs`, one held already keeps its end (a round that lists its series again does not
 * renew it). A rule unknown on either side is no cut: the instance is deleted as before.
 */
export function holdCandidates(missing: readonly MissingInstance[], roundRules: ReadonlyMap<string, string | null | undefined>, held: readonly HeldInstance[], nowMs: number): HeldInstance[] {
  const heldUntil = new Map(held.map((h) => [h.eventId, h.untilMs]));
  const holds: HeldInstance[] = [];
  for (const instance of missing) {
    const until = heldUntil.get(instance.eventId);
    if (until !== undefined) {
      if (until > nowMs) holds.push({ eventId: instance.eventId, untilMs: until });
      continue;
    }
    if (isRangeCut(instance.storedRule, roundRules.get(instance.seriesId))) holds.push({ eventId: instance.eventId, untilMs: nowMs + SPLIT_SECOND_HALF_MS });
  }
  return holds;
}

/**
 * The holds after a round: `held` without those it settled (`settled`: the instances it listed
 * again, deleted, or whose bot followed into a new series), the expired ones left for the round
 * to delete (expiredHolds), with `added` (holdCandidates a bot in its meeting holds) taking the
 * place of any for the same instance. At most MAX_HELD_INSTANCES are `kept`, those ending last;
 * the others are `evicted`, and the round deletes their instances as it would at their hour's
 * end: a hold dropped from the list would leave its instance stored although its series no
 * longer has it, with nothing left to delete it.
 */
export function holdsAfterRound(held: readonly HeldInstance[], added: readonly HeldInstance[], settled: ReadonlySet<string>, nowMs: number): { kept: HeldInstance[]; evicted: HeldInstance[] } {
  const byId = new Map<string, HeldInstance>();
  for (const hold of held) if (hold.untilMs > nowMs && !settled.has(hold.eventId)) byId.set(hold.eventId, hold);
  for (const hold of added) if (!settled.has(hold.eventId)) byId.set(hold.eventId, hold);
  const ordered = [...byId.values()].sort((a, b) => a.untilMs - b.untilMs || (a.eventId < b.eventId ? -1 : 1));
  const cut = Math.max(0, ordered.length - MAX_HELD_INSTANCES);
  return { kept: ordered.slice(cut), evicted: ordered.slice(0, cut) };
}

/** The holds whose hour is over at `nowMs`: their instances are deleted now. */
export function expiredHolds(held: readonly HeldInstance[], nowMs: number): HeldInstance[] {
  return held.filter((hold) => hold.untilMs <= nowMs);
}

/** The end of the first hold still running at `nowMs` (a round is due then to settle it), or null. */
export function nextHoldEnd(held: readonly HeldInstance[], nowMs: number): number | null {
  const ends = held.map((hold) => hold.untilMs).filter((until) => until > nowMs);
  return ends.length === 0 ? null : Math.min(...ends);
}

/** The stored list (JSON); anything that is not one reads as none. */
export function parseHeldInstances(text: string | null | undefined): HeldInstance[] {
  return storedListEntries(text).filter((entry): entry is HeldInstance => {
    const { eventId, untilMs } = (entry ?? {}) as Partial<Record<keyof HeldInstance, unknown>>;
    return typeof eventId === 'string' && eventId !== '' && typeof untilMs === 'number' && Number.isFinite(untilMs);
  });
}

/** The list as stored: null when empty. */
export function storedHeldInstances(held: readonly HeldInstance[]): string | null {
  return held.length === 0 ? null : JSON.stringify(held.map(({ eventId, untilMs }) => ({ eventId, untilMs })));
}
