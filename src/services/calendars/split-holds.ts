// The instances a round holds instead of deleting them: an Outlook split's first half, the old
// series cut short, reached Rollcall before its new series, and a bot is in the meeting the cut
// took away (src/domain/split-hold.ts says why and for how long). The rules are there; this reads
// what they need of the round and of the bots.
import type { EventRow } from '../../db/schema.ts';
import type { ProviderChange } from '../../adapters/calendars/calendar-provider.ts';
import { holdCandidates, type HeldInstance } from '../../domain/split-hold.ts';
import type { Db } from '../../store/event-store.ts';
import { eventsWithBotInItsMeeting } from '../scheduling/bot-lifecycle.ts';

/** The rule each series the round brings its master of has now (as its instances carry it). */
export function roundSeriesRules(changes: readonly ProviderChange[]): Map<string, string | null> {
  const rules = new Map<string, string | null>();
  for (const change of changes) {
    if (change.type !== 'upsert' || change.event.providerSeriesId == null || change.event.seriesRule === undefined) continue;
    rules.set(change.event.providerSeriesId, change.event.seriesRule);
  }
  return rules;
}

/**
 * Of the instances about to be deleted (`gone`, after the round's split rules moved the bots they
 * continue), those held (holdCandidates) that a bot that has gone to its meeting still holds,
 * with their holds.
 */
export async function holdsFor(db: Db, gone: readonly EventRow[], roundRules: ReadonlyMap<string, string | null>, held: readonly HeldInstance[], nowMs: number): Promise<HeldInstance[]> {
  const missing = gone.flatMap((row) => (row.provider_series_id !== null && row.recurrence === null && row.is_deleted === 0
    ? [{ eventId: row.id, seriesId: row.provider_series_id, storedRule: row.series_rule }] : []));
  const candidates = holdCandidates(missing, roundRules, held, nowMs);
  if (candidates.length === 0) return [];
  const inMeeting = await eventsWithBotInItsMeeting(db, candidates.map((hold) => hold.eventId));
  return candidates.filter((hold) => inMeeting.has(hold.eventId));
}
