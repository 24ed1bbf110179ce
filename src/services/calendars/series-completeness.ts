// Outlook series arrive as expanded instances, and a round that brings a series' master (or an
// @removed for its id) is taken to bring every occurrence the series still has in the window:
// the stored instances it does not mention are deleted, and their bots cancelled
// (calendar-sync.ts, removeMissingInstances). That is how a deleted occurrence goes within one
// round, since Graph sends no @removed for it. It rests on behaviour Graph's docs do not state (an
// experiment in microsoft-graph-docs PR 4501, which was not merged), while the docs do say a
// delta round may name an id @removed that was merely changed outside the window, as a master
// whose series began before the window is (learn.microsoft.com/graph/api/event-delta, "Response").
//
// So the series is looked up with Graph's documented list of its instances (event-list-instances)
// before a missing instance goes when the round names its master @removed (the documented false
// alarm: any instance), or when the instance holds a live bot (the loss that matters): what the
// list has stays, and comes into the round as it is now; what it lacks goes. A lookup that fails
// fails the calendar's round, which is read again from the same delta link: the round is not
// applied without it, since a round applied moves the cursor past news that would not come again.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { CalendarProviderError, type CalendarProvider, type FetchResult, type ProviderChange } from '../../adapters/calendars/calendar-provider.ts';
import type { CalendarConnectionRow, ConnectedCalendarRow, Schema } from '../../db/schema.ts';
import { lookUpSeriesInstances, withUnreadable } from './truncated-series.ts';

/**
 * Lookups at most per round (each one request, or a few pages, to Graph). Past them, the round's
 * reading stands unconfirmed rather than the calendar waiting on lookups it cannot finish.
 */
const MAX_LOOKUPS = 50;
const DAY_MS = 86_400_000;

/**
 * `result` with the complete series confirmed: the instances the provider still lists added to
 * the round. Throws the lookup's failure when one could not be made.
 */
export async function confirmCompleteSeries(
  db: Kysely<Schema>, provider: CalendarProvider, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow,
  result: FetchResult, lookedUp: readonly string[], storedId: (providerEventId: string) => string, now: number, logger: Logger,
): Promise<FetchResult> {
  // A series looked up already in this round (truncated-series.ts) is complete by the provider's own list.
  const complete = (result.completeSeries ?? []).filter((seriesId) => !lookedUp.includes(seriesId));
  const window = result.window;
  if (!provider.fetchSeriesInstances || result.isFullSync || window === null || complete.length === 0) return result;
  // Listed but unreadable ones are mentioned too: they are kept as stored, and looking the series
  // up for them would meet the same entry and fail the whole read, sync after sync.
  const mentioned = new Set([...result.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : c.providerEventId)), ...(result.unreadable ?? [])]);
  const prefix = storedId('');
  // The stored instances removeMissingInstances would delete, and which of them hold a live bot.
  const missing = (await db.selectFrom('events').select(['id', 'provider_event_id', 'provider_series_id'])
    .where('calendar_id', '=', connection.id).where('provider_series_id', 'in', complete).where('is_deleted', '=', 0)
    .where('start_ms', '<', window.toMs).where('end_ms', '>', window.fromMs).where('end_ms', '>=', now - DAY_MS)
    .execute())
    .filter((row) => row.provider_event_id?.startsWith(prefix) && !mentioned.has(row.provider_event_id.slice(prefix.length)));
  if (missing.length === 0) return result;
  const withBots = new Set((await db.selectFrom('bot_events').select('event_id').distinct()
    .where('event_id', 'in', missing.map((row) => row.id)).where('is_live', '=', 1).execute()).map((row) => row.event_id));
  // Named @removed in the round: the master itself, not a change of it, is the only news.
  const removedInRound = new Set(result.changes.flatMap((c) => (c.type === 'removed' ? [c.providerEventId] : [])));
  const toConfirm = [...new Set(missing.filter((row) => withBots.has(row.id) || removedInRound.has(row.provider_series_id!)).map((row) => row.provider_series_id!))];
  if (toConfirm.length === 0) return result;
  if (toConfirm.length > MAX_LOOKUPS) {
    logger.warn({ calendarId: connection.id, series: toConfirm.length, lookedUp: MAX_LOOKUPS }, 'more series lost occurrences in one round than are looked up; the rest are taken as the round shows them');
  }

  const added: ProviderChange[] = [];
  const unreadable: string[] = [];
  const unreadableNewIn: string[] = [];
  for (const seriesId of toConfirm.slice(0, MAX_LOOKUPS)) {
    const found = await lookUpSeriesInstances(provider, connection, calendar, seriesId, window, logger, 'a series\' missing occurrences could not be confirmed; the round is read again later');
    if ('failed' in found) throw new CalendarProviderError({ ...found.failed, message: `confirming series ${seriesId}: ${found.failed.message}` });
    // Null: the series is gone; its instances go with it.
    for (const change of found.instances?.changes ?? []) {
      if (change.type === 'upsert' && !mentioned.has(change.event.providerEventId)) added.push(change);
    }
    // Listed in a shape that cannot be read: the series still has them, so they stay as stored.
    unreadable.push(...(found.instances?.unreadable ?? []));
    // One of them not stored may be a stored instance moved (new ids come with a new day): the
    // stored ones the list lacks whose bots follow no new instance stay as stored, bots and all.
    if (found.instances && await holdsUnreadableNew(db, connection, storedId, seriesId, found.instances.unreadable)) {
      unreadableNewIn.push(seriesId);
      logger.warn({ calendarId: connection.id, seriesId }, 'a series lists an instance that cannot be read and is not stored; its stored instances whose bots follow no new one are kept as stored');
    }
  }
  return added.length === 0 && unreadable.length === 0 ? result : { ...result, changes: [...result.changes, ...added], ...withUnreadable(result, unreadable), ...(unreadableNewIn.length === 0 ? {} : { unreadableNewIn }) };
}

/**
 * Whether a series' list names, among the instances it could not read, one that is not a stored
 * instance of that series: one whose times Rollcall does not know, perhaps a stored one moved.
 */
async function holdsUnreadableNew(db: Kysely<Schema>, connection: CalendarConnectionRow, storedId: (providerEventId: string) => string, seriesId: string, unreadable: readonly string[]): Promise<boolean> {
  if (unreadable.length === 0) return false;
  const stored = await db.selectFrom('events').select('provider_event_id')
    .where('calendar_id', '=', connection.id).where('provider_series_id', '=', seriesId).where('is_deleted', '=', 0)
    .where('provider_event_id', 'in', unreadable.map(storedId)).execute();
  return stored.length < new Set(unreadable).size;
}
