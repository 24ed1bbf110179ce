// A "this and following events" split in Outlook from a series' next occurrence ends the old
// series before anything of it is left inside the sync window. A delta round then brings the new
// series, but Graph may not send the old master again (it brings a master with a change to an
// occurrence in the window, and the old series has none left there), so its later instances would
// stay stored, with their bots, until the next full sync, and a bot whose meeting the split moved
// would join at the old time. When a round brings a series Rollcall has not seen, the stored
// series that it may continue (series-split.ts, seriesToRecheck) are looked up with Graph's list
// of a series' instances, and the round goes on as if their masters had come with it: the
// instances they no longer have are deleted, and the bots follow into the new series as for any
// split (instance-moves.ts).
import type { Kysely } from 'kysely';
import type { CalendarProvider, FetchResult, ProviderChange } from '../../adapters/calendars/calendar-provider.ts';
import type { CalendarConnectionRow, ConnectedCalendarRow, Schema } from '../../db/schema.ts';
import { resolveMeetingLink } from '../../domain/meeting-url.ts';
import { seriesToRecheck, type InstanceSeriesTraits } from '../../domain/series-split.ts';
import { organizerOf } from './instance-moves.ts';

/** Lookups at most per round: each is one request (or a few pages) to Graph. */
const MAX_LOOKUPS = 10;

/**
 * `result` with the current instances of the stored series that a series new in the round may
 * continue, those series marked complete; `result` itself when there is nothing to look up.
 */
export async function recheckTruncatedSeries(
  db: Kysely<Schema>, provider: CalendarProvider, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow,
  result: FetchResult, storedId: (providerEventId: string) => string, now: number,
): Promise<FetchResult> {
  if (!provider.fetchSeriesInstances || result.isFullSync || result.window === null) return result;
  const window = result.window;
  const inRound = new Set(result.completeSeries ?? []);
  const arriving = new Map<string, InstanceSeriesTraits & { startsMs: number[] }>();
  for (const change of result.changes) {
    if (change.type !== 'upsert' || change.event.providerSeriesId === null) continue;
    const event = change.event;
    const seriesId = event.providerSeriesId!;
    inRound.add(seriesId);
    if (event.status === 'cancelled') continue;
    let traits = arriving.get(seriesId);
    if (!traits) {
      const link = resolveMeetingLink({ meetingUrl: event.conferenceUrl, location: event.location, description: event.description });
      traits = { seriesId, startsMs: [], meetingIdentity: link?.identity ?? null, title: event.title, organizer: organizerOf(event.raw) };
      arriving.set(seriesId, traits);
    }
    traits.startsMs.push(event.startMs);
  }
  if (arriving.size === 0) return result;
  // Only a series Rollcall has never stored can be a split's new half.
  const known = await db.selectFrom('events').select('provider_series_id').distinct()
    .where('calendar_id', '=', connection.id).where('provider_series_id', 'in', [...arriving.keys()]).execute();
  for (const row of known) arriving.delete(row.provider_series_id!);
  if (arriving.size === 0) return result;

  const appeared = [...arriving.values()];
  const identities = appeared.flatMap((t) => (t.meetingIdentity === null ? [] : [t.meetingIdentity]));
  const titles = appeared.flatMap((t) => (t.title === null ? [] : [t.title]));
  const rows = await db.selectFrom('events').select(['provider_event_id', 'provider_series_id', 'start_ms', 'meeting_identity', 'title', 'raw'])
    .where('calendar_id', '=', connection.id).where('provider_series_id', 'is not', null).where('is_deleted', '=', 0)
    .where('end_ms', '>', now).where('start_ms', '<', window.toMs)
    .where((eb) => eb.or([
      ...(identities.length > 0 ? [eb('meeting_identity', 'in', identities)] : []),
      ...(titles.length > 0 ? [eb('title', 'in', titles)] : []),
    ]))
    .orderBy('start_ms').execute();
  const stored = new Map<string, InstanceSeriesTraits & { startsMs: number[] }>();
  const prefix = storedId('');
  for (const row of rows) {
    const seriesId = row.provider_series_id!;
    if (inRound.has(seriesId) || !row.provider_event_id?.startsWith(prefix)) continue;
    let traits = stored.get(seriesId);
    if (!traits) {
      traits = { seriesId, startsMs: [], meetingIdentity: row.meeting_identity, title: row.title, organizer: organizerOf(row.raw) };
      stored.set(seriesId, traits);
    }
    traits.startsMs.push(row.start_ms);
  }
  const wanted = seriesToRecheck(appeared, [...stored.values()]).slice(0, MAX_LOOKUPS);
  if (wanted.length === 0) return result;

  const changes: ProviderChange[] = [...result.changes];
  for (const seriesId of wanted) {
    // Null: the series is gone; marked complete with no instance, its stored ones go.
    const instances = await provider.fetchSeriesInstances(calendar.provider_calendar_id, seriesId, window);
    if (instances) changes.push(...instances);
  }
  return { ...result, changes, completeSeries: [...(result.completeSeries ?? []), ...wanted] };
}
