// Outlook series arrive as expanded instances, and a round that brings a series' master (or an
// @removed for its id) is taken to bring every occurrence the series still has in the window:
// the stored instances it does not mention are deleted, and their bots cancelled
// (calendar-sync.ts, removeMissingInstances). That is how a deleted occurrence goes within one
// round, since Graph sends no @removed for it. It rests on behaviour Graph's docs do not state (an
// experiment in microsoft-graph-docs PR 4501, which was not merged), while the docs do say a
// delta round may name an id @removed that was merely changed outside the window.
//
// So before an instance that holds a live bot is deleted for want of a mention, the series is
// looked up with Graph's documented list of a series' instances (event-list-instances): what it
// lists stays (and comes into the round as it is now), what it does not list goes. A lookup that
// fails leaves the series as stored for this round rather than deleting on unconfirmed news.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CalendarProvider, FetchResult, ProviderChange } from '../../adapters/calendars/calendar-provider.ts';
import { lookUpSeriesInstances } from './truncated-series.ts';
import type { CalendarConnectionRow, ConnectedCalendarRow, Schema } from '../../db/schema.ts';

/** Lookups at most per round: each is one request (or a few pages) to Graph. */
const MAX_LOOKUPS = 10;
const DAY_MS = 86_400_000;

/**
 * `result` with each complete series that would lose a bot-holding instance confirmed: the
 * instances the provider still lists added to the round, and a series that could not be looked
 * up no longer counted complete.
 */
export async function confirmCompleteSeries(
  db: Kysely<Schema>, provider: CalendarProvider, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow,
  result: FetchResult, lookedUp: readonly string[], storedId: (providerEventId: string) => string, now: number, logger: Logger,
): Promise<FetchResult> {
  // A series looked up already in this round (truncated-series.ts) is complete by the provider's own list.
  const complete = (result.completeSeries ?? []).filter((seriesId) => !lookedUp.includes(seriesId));
  const window = result.window;
  if (!provider.fetchSeriesInstances || result.isFullSync || window === null || complete.length === 0) return result;
  const mentioned = new Set(result.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : c.providerEventId)));
  const prefix = storedId('');
  // The stored instances removeMissingInstances would delete that hold a live bot.
  const atStake = await db.selectFrom('events').innerJoin('bot_events', 'bot_events.event_id', 'events.id')
    .select(['events.provider_event_id', 'events.provider_series_id']).distinct()
    .where('events.calendar_id', '=', connection.id).where('events.provider_series_id', 'in', complete).where('events.is_deleted', '=', 0)
    .where('events.start_ms', '<', window.toMs).where('events.end_ms', '>', window.fromMs).where('events.end_ms', '>=', now - DAY_MS)
    .where('bot_events.is_live', '=', 1)
    .execute();
  const toConfirm = [...new Set(atStake
    .filter((row) => row.provider_event_id?.startsWith(prefix) && !mentioned.has(row.provider_event_id.slice(prefix.length)))
    .map((row) => row.provider_series_id!))];
  if (toConfirm.length === 0) return result;

  const added: ProviderChange[] = [];
  const unconfirmed = new Set<string>();
  for (const [index, seriesId] of toConfirm.entries()) {
    if (index >= MAX_LOOKUPS) {
      unconfirmed.add(seriesId);
      continue;
    }
    const found = await lookUpSeriesInstances(provider, connection, calendar, seriesId, window, logger, 'a series\' missing occurrences could not be confirmed; they stay for now');
    if ('failed' in found) {
      unconfirmed.add(seriesId);
      // After a 429 the round makes no more lookups; the rest wait for the next round too.
      if (found.failed !== 'rate_limited') continue;
      for (const rest of toConfirm.slice(index + 1)) unconfirmed.add(rest);
      break;
    }
    // Null: the series is gone; its instances go with it.
    for (const change of found.instances ?? []) {
      if (change.type === 'upsert' && !mentioned.has(change.event.providerEventId)) added.push(change);
    }
  }
  if (added.length === 0 && unconfirmed.size === 0) return result;
  return { ...result, changes: [...result.changes, ...added], completeSeries: (result.completeSeries ?? []).filter((seriesId) => !unconfirmed.has(seriesId)) };
}
