// A meeting moved from one synced calendar of an account to another (Google's events.move, which
// "changes an event's organizer"; an Outlook event dragged to another calendar, which gives it a
// new id unless ids are immutable: learn.microsoft.com/graph/outlook-immutable-id) leaves the
// first calendar as a deleted event and arrives in the second as a new one. Rollcall stores
// events per calendar, so the two are different rows, and the bots of the one leaving would be
// cancelled with it though the meeting still takes place. Instead they follow it:
//
// - a sync writes the calendars a meeting arrives in before the calendars it leaves (orderForMoves:
//   one read of the leaving rows' times), so the arriving event is stored first;
// - when the sync deletes a single event still to come (or one past its scheduled end whose bot is
//   in the meeting: meetings run late), an event of the same connection that is
//   the same meeting (the same iCalendar UID, which both providers keep across calendars; the same
//   times; the same meeting link) takes its links (followMeetingToOtherCalendar), as an Outlook
//   occurrence's bots follow it to a new id (instance-moves.ts).
//
// Series are left out: a series moved to another calendar loses its bots as a deleted series does.
// So is a move the provider reports in two different syncs (the event leaving in one, arriving in
// a later one): the bots are cancelled with the event leaving, and auto-schedule books the new one.
import type { Transaction } from 'kysely';
import type { Engine } from '../../db/database.ts';
import type { ConnectedCalendarRow, EventRow, Schema } from '../../db/schema.ts';
import { lockEvent, type Db } from '../../store/event-store.ts';
import type { FetchResult } from '../../adapters/calendars/calendar-provider.ts';
import { arrivalsFirst } from '../../domain/calendar-read-order.ts';
import { storedIcalUid } from './calendar-events.ts';
import { moveLinks } from './instance-moves.ts';
import { eventsWithBotInItsMeeting } from '../scheduling/bot-lifecycle.ts';

/** A single event: no series of its own and none it belongs to (Google, ICS, the API; an Outlook single event). */
function isSingle(row: Pick<EventRow, 'recurrence' | 'recurring_event_id' | 'provider_series_id'>): boolean {
  return row.recurrence === null && row.recurring_event_id === null && row.provider_series_id === null;
}

const timesOf = (startMs: number, endMs: number) => `${startMs}/${endMs}`;

/**
 * The calendars' reads in the order to write them: those a meeting arrives in (a new single event
 * at the times of a single event another calendar of the sync removes) first (arrivalsFirst).
 * Removals by omission (a full read) are not looked at: a full read is a first sync or one after
 * the provider dropped its cursor.
 */
export async function orderForMoves<T extends { calendar: ConnectedCalendarRow; result: FetchResult }>(db: Db, connectionId: string, reads: readonly T[], storedId: (calendar: ConnectedCalendarRow, providerEventId: string) => string): Promise<T[]> {
  const removedIds = reads.map((read) => read.result.changes.flatMap((c) => c.type === 'removed' ? [storedId(read.calendar, c.providerEventId)] : []));
  if (reads.length < 2 || removedIds.every((ids) => ids.length === 0)) return [...reads];
  const all = removedIds.flat();
  const leavingTimes = new Map<string, string>();
  for (let i = 0; i < all.length; i += 500) {
    const rows = await db.selectFrom('events').select(['provider_event_id', 'start_ms', 'end_ms', 'recurrence', 'recurring_event_id', 'provider_series_id'])
      .where('calendar_id', '=', connectionId).where('provider_event_id', 'in', all.slice(i, i + 500)).where('is_deleted', '=', 0).execute();
    for (const row of rows) if (isSingle(row)) leavingTimes.set(row.provider_event_id!, timesOf(row.start_ms, row.end_ms));
  }
  const order = arrivalsFirst(reads.map((read, i) => ({
    leaving: new Set(removedIds[i]!.flatMap((id) => leavingTimes.get(id) ?? [])),
    arriving: new Set(read.result.changes.flatMap((c) => c.type === 'upsert' && c.event.recurrence === null && c.event.seriesProviderEventId === null && c.event.status !== 'cancelled' ? [timesOf(c.event.startMs, c.event.endMs)] : [])),
  })));
  return order.map((i) => reads[i]!);
}

/**
 * Before a single event still to come is deleted by a sync: the same meeting in another calendar
 * of the connection, if there is one, takes its bots' links (moveLinks: live ones of bots not
 * launched, ended ones of bots that never launched, so that a bot the client cancelled stays
 * cancelled there). One that holds a live link already takes none. Answers the event that took
 * them, or null. An event whose scheduled end has passed is followed too while a bot that went to
 * its meeting holds it: the meeting may be running late, and the bot is in it.
 */
export async function followMeetingToOtherCalendar(trx: Transaction<Schema>, engine: Engine, now: number, row: EventRow): Promise<string | null> {
  if (!isSingle(row) || row.calendar_id === null || row.meeting_identity === null) return null;
  const uid = storedIcalUid(row);
  if (uid === null) return null;
  if (row.end_ms <= now && !(await eventsWithBotInItsMeeting(trx, [row.id])).has(row.id)) return null;
  // On events_user_start: the user's events that start at that instant.
  const twins = await trx.selectFrom('events').selectAll()
    .where('user_id', '=', row.user_id).where('start_ms', '=', row.start_ms).where('id', '!=', row.id)
    .where('calendar_id', '=', row.calendar_id).where('is_deleted', '=', 0).where('end_ms', '=', row.end_ms)
    .where('meeting_identity', '=', row.meeting_identity).orderBy('id').execute();
  const twin = twins.find((candidate) => isSingle(candidate) && candidate.status !== 'cancelled' && candidate.provider_calendar_id !== row.provider_calendar_id && storedIcalUid(candidate) === uid);
  if (!twin) return null;
  // Locked before it is read for bots, as a booking locks it (event, then bots): a booking of the
  // arriving event under way (auto-schedule, a client) commits first and is seen here, or waits.
  const locked = await lockEvent(trx, engine, twin.user_id, twin.id);
  if (!locked || locked.is_deleted === 1 || locked.status === 'cancelled') return null;
  const held = await trx.selectFrom('bot_events').select('id').where('event_id', '=', twin.id).where('is_live', '=', 1).limit(1).executeTakeFirst();
  if (held) return null;
  const received = await moveLinks(trx, engine, now, [{ old: row, replacement: twin, why: 'moved_calendar' }]);
  return received.length > 0 ? twin.id : null;
}
