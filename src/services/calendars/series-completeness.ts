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
// list has stays, and comes into the round as it is now. A lookup that fails fails the calendar's
// round, which is read again from the same delta link: the round is not applied without it, since
// a round applied moves the cursor past news that would not come again.
//
// The list itself is not the last word either: documented to hold the series' occurrences and
// exceptions, it has been reported to leave the exceptions out (microsoft-graph-docs issue 15611,
// open; issue 4294, where a Microsoft writer saw them listed: both behaviours exist). So a stored
// instance of a complete series that is still missing (from the round, from any list read) is
// looked up by its own id before it goes when it holds a live bot or is stored as an exception
// (confirmMissingInstances): gone, it goes; found, it stays, brought up to date from the answer
// (an exception carries its current times). Gone takes more than a 404, which Graph answers at
// times for an event it has: the provider's listing of the instance's stored times must lack it too.
// A series whose list answers 404 is looked up the same way: that 404 alone cancels no bot.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { CalendarProviderError, lookUpEach, LookupsStopped, type CalendarProvider, type FetchResult, type InstanceLookup, type ProviderChange, type ProviderFailure } from '../../adapters/calendars/calendar-provider.ts';
import type { CalendarConnectionRow, ConnectedCalendarRow, Schema } from '../../db/schema.ts';
import { lookUpSeriesInstances, withUnreadable } from './truncated-series.ts';
import { isStoredException } from '../../domain/instance-series.ts';

/**
 * Lookups at most per round (each one request, or a few pages, to Graph). Past them, the round's
 * reading stands unconfirmed rather than the calendar waiting on lookups it cannot finish.
 */
const MAX_LOOKUPS = 50;
/**
 * Missing instances looked up by their ids at most per calendar read (each one GET). Past them, the
 * rest stay as stored in this read (see confirmMissingInstances).
 */
const MAX_INSTANCE_LOOKUPS = 50;
const DAY_MS = 86_400_000;

/**
 * `result` with the complete series confirmed: the instances the provider still lists added to
 * the round, then each stored instance still missing that holds a live bot or is an exception
 * looked up by its id. Throws the lookup's failure when one could not be made.
 */
export async function confirmCompleteSeries(
  db: Kysely<Schema>, provider: CalendarProvider, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow,
  result: FetchResult, lookedUp: readonly string[], storedId: (providerEventId: string) => string, now: number, logger: Logger,
): Promise<FetchResult> {
  const listed = await confirmFromLists(db, provider, connection, calendar, result, lookedUp, storedId, now, logger);
  return confirmMissingInstances(db, provider, connection, calendar, listed, storedId, now, logger);
}

/** The list lookups of confirmCompleteSeries. */
async function confirmFromLists(
  db: Kysely<Schema>, provider: CalendarProvider, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow,
  result: FetchResult, lookedUp: readonly string[], storedId: (providerEventId: string) => string, now: number, logger: Logger,
): Promise<FetchResult> {
  // A series looked up already in this round (truncated-series.ts) is complete by the provider's own list.
  const complete = (result.completeSeries ?? []).filter((seriesId) => !lookedUp.includes(seriesId));
  const window = result.window;
  if (!provider.fetchSeriesInstances || result.isFullSync || window === null || complete.length === 0) return result;
  // Listed but unreadable ones are mentioned too: they are kept as stored, and looking the series
  // up for them would meet the same entry and fail the whole read, sync after sync.
  const { mentioned, missing, withBots } = await storedInstancesMissing(db, connection, result, complete, window, storedId, now);
  if (missing.length === 0) return result;
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
  // PROVIDER_LOOKUPS_AT_ONCE at a time (lookUpEach), their answers used in the series' order.
  const looked = toConfirm.slice(0, MAX_LOOKUPS);
  const answers = await lookUpEach(looked, async (seriesId) => {
    const found = await lookUpSeriesInstances(provider, connection, calendar, seriesId, window, logger, 'a series\' missing occurrences could not be confirmed; the round is read again later');
    if ('failed' in found) throw new CalendarProviderError({ ...found.failed, message: `confirming series ${seriesId}: ${found.failed.message}` });
    return found;
  });
  for (const [index, seriesId] of looked.entries()) {
    const found = answers[index]!;
    // Null (a 404): the series may be gone, or Graph may answer 404 for a series it has, as it
    // does at times for an event (msgraph-sdk-java issue 1225). Its instances whose bots would go
    // with it are looked up each by its id (confirmMissingInstances): each goes when its own lookup
    // and calendarView over its times agree that it is gone.
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

/**
 * Looks up by its id each stored instance of a series complete in `result` that `result` does not
 * mention and that holds a live bot or is stored as an exception (Graph's type `exception`): the
 * series' list of instances may have left it out (see the header). Gone (a 404 the provider's
 * listing of its stored times agrees with): it goes, as the round says. One the check before a
 * bot joins found still there, at its stored times, in this read (FetchResult.confirmedPresent) is
 * kept, not asked again (found at other times, that check has brought it up to date). Found: the change that brings it up to date joins the round. Answered with something
 * that is not an event, or refused for that one item (not an outage, not a limit): kept as stored.
 * Those with bots are looked up first, soonest first, at most MAX_INSTANCE_LOOKUPS a read; past
 * that, the rest are kept as stored in this read: the next read in which their series comes
 * complete looks them up again, one whose bot joins soon is looked up before its join time (the
 * check of meetings whose bots join soon), and the next full read of the window settles the rest.
 * An outage or a limit on a lookup fails the read, which is tried again from the same cursor, as
 * for a failed list. A series whose list answered 404 is no exception: a 404 alone cancels no bot.
 */
export async function confirmMissingInstances(
  db: Kysely<Schema>, provider: CalendarProvider, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow,
  result: FetchResult, storedId: (providerEventId: string) => string, now: number, logger: Logger,
): Promise<FetchResult> {
  const window = result.window;
  const complete = result.completeSeries ?? [];
  if (!provider.lookUpInstance || result.isFullSync || window === null || complete.length === 0) return result;
  const prefix = storedId('');
  const { missing, withBots } = await storedInstancesMissing(db, connection, result, complete, window, storedId, now);
  if (missing.length === 0) return result;
  const wanted = missing.filter((row) => withBots.has(row.id) || isStoredException(row.raw))
    .sort((a, b) => Number(withBots.has(b.id)) - Number(withBots.has(a.id)) || a.start_ms - b.start_ms);
  if (wanted.length === 0) return result;
  const added: ProviderChange[] = [];
  const kept: string[] = [];
  const warnings: string[] = [];
  // Found still there, at the stored times, by the check before a bot joins in this same read: not asked again.
  const present = new Set(result.confirmedPresent ?? []);
  const toLookUp = wanted.filter((row) => {
    const instanceId = row.provider_event_id!.slice(prefix.length);
    if (present.has(instanceId)) kept.push(instanceId);
    return !present.has(instanceId);
  });
  // PROVIDER_LOOKUPS_AT_ONCE at a time (lookUpEach), their answers used in the rows' order.
  const instanceIdOf = (row: (typeof toLookUp)[number]) => row.provider_event_id!.slice(prefix.length);
  const looked = toLookUp.slice(0, MAX_INSTANCE_LOOKUPS);
  const answers = await lookUpEach(looked, async (row): Promise<InstanceLookup | { kind: 'refused'; failure: ProviderFailure }> => {
    const instanceId = instanceIdOf(row);
    try {
      return await provider.lookUpInstance!(calendar.provider_calendar_id, row.provider_series_id!, instanceId, window, { startMs: row.start_ms, endMs: row.end_ms });
    } catch (error) {
      if (!(error instanceof CalendarProviderError)) throw error;
      if (error instanceof LookupsStopped) throw error;
      if (error.failure.kind === 'transient' || error.failure.kind === 'rate_limited') {
        logger.warn({ calendarId: connection.id, seriesId: row.provider_series_id, failure: error.failure.kind }, 'an instance missing from its series could not be looked up; the round is read again later');
        throw new CalendarProviderError({ ...error.failure, message: `looking up instance ${instanceId} of series ${row.provider_series_id}: ${error.failure.message}` });
      }
      return { kind: 'refused', failure: error.failure };
    }
  });
  for (const [index, row] of toLookUp.entries()) {
    const instanceId = instanceIdOf(row);
    const found = answers[index];
    if (found === undefined) kept.push(instanceId);
    else if (found.kind === 'found') added.push(found.change);
    else if (found.kind === 'unreadable' || found.kind === 'listed') {
      kept.push(instanceId);
      warnings.push(found.warning);
    } else if (found.kind === 'refused') {
      kept.push(instanceId);
      warnings.push(`instance ${instanceId}: ${found.failure.kind}: ${found.failure.message}`);
    }
  }
  if (toLookUp.length > MAX_INSTANCE_LOOKUPS) {
    logger.warn({ calendarId: connection.id, missing: toLookUp.length, lookedUp: MAX_INSTANCE_LOOKUPS }, 'more instances missing from their series than are looked up in one read; the rest are kept as stored for now');
  }
  if (warnings.length > 0) logger.warn({ calendarId: connection.id, warnings: warnings.slice(0, 10), count: warnings.length }, 'instances missing from their series kept as stored');
  return added.length === 0 && kept.length === 0 ? result : { ...result, isUnchanged: false, changes: [...result.changes, ...added], ...withUnreadable(result, kept) };
}

/**
 * The stored instances of the `complete` series that `result` does not mention (removeMissingInstances,
 * calendar-sync.ts, would delete them), which of them hold a live bot, and the ids `result` mentions.
 */
async function storedInstancesMissing(
  db: Kysely<Schema>, connection: CalendarConnectionRow, result: FetchResult, complete: readonly string[],
  window: { fromMs: number; toMs: number }, storedId: (providerEventId: string) => string, now: number,
) {
  const mentioned = new Set([...result.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : c.providerEventId)), ...(result.unreadable ?? [])]);
  const prefix = storedId('');
  const missing = (await db.selectFrom('events').select(['id', 'provider_event_id', 'provider_series_id', 'start_ms', 'end_ms', 'raw'])
    .where('calendar_id', '=', connection.id).where('provider_series_id', 'in', complete).where('is_deleted', '=', 0)
    .where('start_ms', '<', window.toMs).where('end_ms', '>', window.fromMs).where('end_ms', '>=', now - DAY_MS)
    .execute())
    .filter((row) => row.provider_event_id?.startsWith(prefix) && !mentioned.has(row.provider_event_id.slice(prefix.length)));
  const withBots = missing.length === 0 ? new Set<string>() : new Set((await db.selectFrom('bot_events').select('event_id').distinct()
    .where('event_id', 'in', missing.map((row) => row.id)).where('is_live', '=', 1).execute()).map((row) => row.event_id));
  return { mentioned, missing, withBots };
}
