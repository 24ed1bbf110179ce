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
//
// Outlook writes a split in two steps, and a sync can come between them: the new series first,
// the old one not yet shortened. So a new series is remembered on its calendar for an hour
// (connected_calendars.recent_series), and each round in that hour looks its old series up
// again (or, when the round brings its master with its complete list, as a series keeping an
// instance in the window has, reads that list); the round that finds it shortened treats the new
// series' instances as arriving in it, so that the bots follow just the same.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { CalendarProviderError, inLookupGroup, LookupsStopped, PROVIDER_LOOKUPS_AT_ONCE, type CalendarProvider, type FetchResult, type ProviderChange, type ProviderFailure, type SeriesInstances } from '../../adapters/calendars/calendar-provider.ts';
import type { CalendarConnectionRow, ConnectedCalendarRow, EventRow, Schema } from '../../db/schema.ts';
import { resolveMeetingLink } from '../../domain/meeting-url.ts';
import { isRangeCut, seriesToRecheck, type InstanceSeriesTraits } from '../../domain/series-split.ts';
import { SPLIT_SECOND_HALF_MS } from '../../domain/split-hold.ts';
import { organizerOf } from './instance-moves.ts';
import { mapBounded } from '../../lib/bounded-parallel.ts';
import { meetingsNotOver } from '../scheduling/bot-lifecycle.ts';

/** Lookups at most per round: each is one request (or a few pages) to Graph. */
const MAX_LOOKUPS = 10;

/** How long a new series is remembered for a split whose halves come in two rounds. */
const RECENT_SERIES_MS = SPLIT_SECOND_HALF_MS;

/** Most new series remembered per calendar (the newest kept). */
const MAX_RECENT_SERIES = 50;

/** A series' traits, with its instances' starts and (stored series) provider ids, of those not over (meetingsNotOver). */
type Traits = InstanceSeriesTraits & { startsMs: number[]; providerIds: string[]; rule?: string | null };

/** What is read of a stored instance: its traits, and its id and end for meetingsNotOver. */
const STORED_INSTANCE = ['id', 'provider_event_id', 'provider_series_id', 'start_ms', 'end_ms', 'meeting_identity', 'title', 'raw', 'series_rule'] as const;

type StoredInstance = Pick<EventRow, (typeof STORED_INSTANCE)[number]>;

export interface Recheck {
  /** The round, with the looked-up series' current instances, and those series marked complete. */
  result: FetchResult;
  /** Stored series to treat as arriving in this round (new in an earlier round of the last hour). */
  asNew: string[];
  /** connected_calendars.recent_series after this round (JSON), or undefined when unchanged. */
  recentSeries: string | null | undefined;
  /** Series whose instances were looked up in this round (their completeness is the provider's list). */
  lookedUp: string[];
}

/**
 * Looks up the stored series that a series new in this round, or in a round of the last hour,
 * may continue. `result` itself when there is nothing to look up.
 */
export async function recheckTruncatedSeries(
  db: Kysely<Schema>, provider: CalendarProvider, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow,
  result: FetchResult, storedId: (providerEventId: string) => string, now: number, logger: Logger,
): Promise<Recheck> {
  const unchanged: Recheck = { result, asNew: [], recentSeries: undefined, lookedUp: [] };
  if (!provider.fetchSeriesInstances || result.isFullSync || result.window === null) return unchanged;
  const window = result.window;
  const inRound = new Set(result.completeSeries ?? []);
  const arriving = new Map<string, Traits>();
  for (const change of result.changes) {
    if (change.type !== 'upsert' || change.event.providerSeriesId === null) continue;
    const event = change.event;
    const seriesId = event.providerSeriesId!;
    inRound.add(seriesId);
    // Its instances not over: those are what the stored series is compared with (an instance over
    // that a running meeting's bot holds is compared through the later ones).
    if (event.status === 'cancelled' || event.endMs <= now) continue;
    let traits = arriving.get(seriesId);
    if (!traits) {
      const link = resolveMeetingLink({ meetingUrl: event.conferenceUrl, location: event.location, description: event.description });
      traits = { seriesId, startsMs: [], providerIds: [], meetingIdentity: link?.identity ?? null, title: event.title, organizer: organizerOf(event.raw) };
      arriving.set(seriesId, traits);
    }
    traits.startsMs.push(event.startMs);
  }
  // Only a series Rollcall has never stored can be a split's new half.
  if (arriving.size > 0) {
    const known = await db.selectFrom('events').select('provider_series_id').distinct()
      .where('calendar_id', '=', connection.id).where('provider_series_id', 'in', [...arriving.keys()]).execute();
    for (const row of known) arriving.delete(row.provider_series_id!);
  }
  const remembered = parseRecent(calendar.recent_series).filter((r) => r.untilMs > now && !arriving.has(r.seriesId));
  const earlier = await storedTraits(db, connection, storedId, remembered.map((r) => r.seriesId), window, now);
  const newlyRemembered = [...arriving.keys()].map((seriesId) => ({ seriesId, untilMs: now + RECENT_SERIES_MS }));
  const keep = [...remembered.filter((r) => earlier.has(r.seriesId)), ...newlyRemembered].slice(-MAX_RECENT_SERIES);
  const recentSeries = keep.length === 0 ? null : JSON.stringify(keep);
  const isRecentChanged = recentSeries !== (calendar.recent_series ?? null);
  const appeared = [...arriving.values(), ...earlier.values()];
  if (appeared.length === 0) return { ...unchanged, recentSeries: isRecentChanged ? recentSeries : undefined };

  const identities = appeared.flatMap((t) => (t.meetingIdentity === null ? [] : [t.meetingIdentity]));
  const titles = appeared.flatMap((t) => (t.title === null ? [] : [t.title]));
  const rows = await meetingsNotOver(db, await db.selectFrom('events').select(STORED_INSTANCE)
    .where('calendar_id', '=', connection.id).where('provider_series_id', 'is not', null).where('is_deleted', '=', 0)
    .where('end_ms', '>', window.fromMs).where('start_ms', '<', window.toMs)
    .where((eb) => eb.or([
      ...(identities.length > 0 ? [eb('meeting_identity', 'in', identities)] : []),
      ...(titles.length > 0 ? [eb('title', 'in', titles)] : []),
    ]))
    .orderBy('start_ms').execute(), now);
  // Stored series not in the round (to look up), and those whose master came with the round
  // complete (its list of instances is the round's: no lookup).
  const sentComplete = new Set(result.completeSeries ?? []);
  const stored = traitsBySeries(rows.filter((row) => !inRound.has(row.provider_series_id!) || sentComplete.has(row.provider_series_id!)), storedId(''));
  // A series can only continue one older than itself: each new one of this round any stored
  // series not in the round (one in it is tied by the split rule itself), one remembered from an
  // earlier round those that were there before it, the round's complete ones too (the old
  // series shortened after the new one came, its master sent again).
  // The list keeps the order they appeared in.
  const seenSince = new Map(remembered.map((r, index) => [r.seriesId, index]));
  const rank = (seriesId: string) => (arriving.has(seriesId) ? Infinity : seenSince.get(seriesId) ?? -Infinity);
  const partners = new Map<string, string[]>();
  for (const series of appeared) {
    const older = [...stored.values()].filter((old) => rank(old.seriesId) < rank(series.seriesId) && !(arriving.has(series.seriesId) && inRound.has(old.seriesId)));
    for (const old of seriesToRecheck([series], older)) partners.set(old, [...(partners.get(old) ?? []), series.seriesId]);
  }
  const shortened: string[] = [];
  const sent = [...partners.keys()].filter((seriesId) => inRound.has(seriesId));
  if (sent.length > 0) {
    // Shortened only when its master's range now ends earlier than the stored rule's: an
    // occurrence cancelled leaves the range as it was, and is no split.
    const listed = new Set<string>();
    const rules = new Map<string, string | null | undefined>();
    for (const c of result.changes) {
      if (c.type !== 'upsert') continue;
      listed.add(c.event.providerEventId);
      if (c.event.providerSeriesId && c.event.seriesRule !== undefined) rules.set(c.event.providerSeriesId, c.event.seriesRule);
    }
    // A rule Rollcall could not write for either (a Graph pattern with no RRULE form, an end date
    // in a zone it cannot read) leaves the missing instances to decide, as a lookup's list does.
    const rangeCut = (seriesId: string) => {
      const [before, after] = [stored.get(seriesId)!.rule, rules.get(seriesId)];
      return !before || !after || isRangeCut(before, after);
    };
    shortened.push(...sent.filter((seriesId) => isShortened(stored.get(seriesId)!, listed) && rangeCut(seriesId)));
  }
  const wanted = [...partners.keys()].filter((seriesId) => !inRound.has(seriesId)).slice(0, MAX_LOOKUPS);
  const changes: ProviderChange[] = [...result.changes];
  const complete: string[] = [];
  const unreadable: string[] = [];
  // The lookup only adds to the round: one the provider fails (a 403 on a shared calendar, an
  // outage) leaves that series as the round found it rather than failing the sync; after a 429
  // the round sends no more requests for them. PROVIDER_LOOKUPS_AT_ONCE at a time, the series
  // independent of each other: a lookup in flight when a 429 comes sends no further request (the
  // next page of its list, say: inLookupGroup) and has its request in flight ended, and its series
  // stays as the round found it; what those already done found is kept.
  const limited = new AbortController();
  const answers = await mapBounded(wanted, PROVIDER_LOOKUPS_AT_ONCE, async (seriesId) => {
    if (limited.signal.aborted) return null;
    const found = await inLookupGroup(limited.signal, () => lookUpSeriesInstances(provider, connection, calendar, seriesId, window, logger, 'a series split check could not look the old series up'));
    if ('failed' in found && found.failed.kind === 'rate_limited') limited.abort();
    return found;
  });
  for (const [index, seriesId] of wanted.entries()) {
    const found = answers[index]!;
    if (found === null || 'failed' in found) continue;
    const { instances } = found;
    // Null: the series is gone; marked complete with no instance, its stored ones go.
    // Listed in a shape that cannot be read: still the series', kept as stored.
    if (instances) {
      changes.push(...instances.changes);
      unreadable.push(...instances.unreadable);
    }
    complete.push(seriesId);
    // One it could not read counts as missing here, which changes nothing: being shortened only
    // lets bots follow from instances that go, and that one stays.
    const present = new Set((instances?.changes ?? []).flatMap((c) => (c.type === 'upsert' ? [c.event.providerEventId] : [])));
    if (isShortened(stored.get(seriesId)!, present)) shortened.push(seriesId);
  }
  return {
    result: complete.length === 0 ? result : { ...result, changes, completeSeries: [...(result.completeSeries ?? []), ...complete], ...withUnreadable(result, unreadable) },
    // A remembered new series whose older partner turns out shortened: its instances count as
    // arriving now, which lets the split rule tie the two (it still decides whether they are).
    asNew: [...new Set(shortened.flatMap((old) => partners.get(old)!.filter((seriesId) => earlier.has(seriesId))))],
    recentSeries: isRecentChanged ? recentSeries : undefined,
    lookedUp: complete,
  };
}

/** Whether a stored series lost an instance (not over, or held by a bot in its meeting) that its list now leaves out. */
function isShortened(stored: Traits, listed: ReadonlySet<string>): boolean {
  return stored.providerIds.some((id) => !listed.has(id));
}

/** `result`'s unreadable ids with `more` added (nothing when there are none to add). */
export function withUnreadable(result: FetchResult, more: readonly string[]): Pick<FetchResult, 'unreadable'> {
  return more.length === 0 ? {} : { unreadable: [...new Set([...(result.unreadable ?? []), ...more])] };
}

/**
 * A series' instances in the window as the provider lists them now (null: the series is gone), or
 * the failure when it could not say (logged with `why`). Other errors are thrown.
 */
export async function lookUpSeriesInstances(
  provider: CalendarProvider, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow, seriesId: string,
  window: { fromMs: number; toMs: number }, logger: Logger, why: string,
): Promise<{ instances: SeriesInstances | null } | { failed: ProviderFailure }> {
  try {
    const warnings: string[] = [];
    const instances = await provider.fetchSeriesInstances!(calendar.provider_calendar_id, seriesId, window, warnings);
    if (warnings.length > 0) logger.warn({ calendarId: connection.id, seriesId, warnings: warnings.slice(0, 10), count: warnings.length }, 'series instances read with warnings');
    return { instances };
  } catch (error) {
    if (!(error instanceof CalendarProviderError)) throw error;
    if (!(error instanceof LookupsStopped)) logger.warn({ calendarId: connection.id, seriesId, failure: error.failure.kind }, why);
    return { failed: error.failure };
  }
}

/** The stored traits (instances not over: meetingsNotOver) of the given series, those that still have any. */
async function storedTraits(db: Kysely<Schema>, connection: CalendarConnectionRow, storedId: (id: string) => string, seriesIds: string[], window: { fromMs: number }, now: number): Promise<Map<string, Traits>> {
  if (seriesIds.length === 0) return new Map();
  const rows = await db.selectFrom('events').select(STORED_INSTANCE)
    .where('calendar_id', '=', connection.id).where('provider_series_id', 'in', seriesIds).where('is_deleted', '=', 0).where('end_ms', '>', window.fromMs)
    .where('status', '!=', 'cancelled').orderBy('start_ms').execute();
  return traitsBySeries(await meetingsNotOver(db, rows, now), storedId(''));
}

/** Stored instance rows (in start order) as their series' traits; rows of another calendar (another prefix) left out. */
function traitsBySeries(rows: readonly StoredInstance[], prefix: string): Map<string, Traits> {
  const traits = new Map<string, Traits>();
  for (const row of rows) {
    if (!row.provider_event_id?.startsWith(prefix)) continue;
    const seriesId = row.provider_series_id!;
    let found = traits.get(seriesId);
    if (!found) {
      found = { seriesId, startsMs: [], providerIds: [], meetingIdentity: row.meeting_identity, title: row.title, organizer: organizerOf(row.raw), rule: row.series_rule };
      traits.set(seriesId, found);
    }
    found.startsMs.push(row.start_ms);
    found.providerIds.push(row.provider_event_id.slice(prefix.length));
  }
  return traits;
}

function parseRecent(stored: string | null | undefined): { seriesId: string; untilMs: number }[] {
  if (!stored) return [];
  try {
    const list = JSON.parse(stored) as unknown;
    return Array.isArray(list) ? list.filter((r): r is { seriesId: string; untilMs: number } => typeof r?.seriesId === 'string' && typeof r?.untilMs === 'number') : [];
  } catch {
    return [];
  }
}
