// The changes of a full listing read in parts (FetchResult.round) kept until the round's last
// part: written, read and deleted only inside a sync's transactions, after its hold is checked.
import type { ProviderChange } from '../adapters/calendars/calendar-provider.ts';
import type { Db } from './event-store.ts';

/** What one part of a round read: its changes in the provider's order, and the ids it listed in a shape it could not read. */
export interface KeptPart {
  changes: ProviderChange[];
  unreadable: string[];
}

/**
 * Changes a row holds at most: a part of 40 pages is written as rows of a page's worth (Google's
 * 250), each some hundreds of kilobytes rather than one of tens of megabytes.
 */
const CHANGES_PER_ROW = 250;

/** Keeps a part after those the calendar's round already keeps (as one row or more, read back as parts in the same order). */
export async function keepPart(db: Db, calendarId: number, part: KeptPart): Promise<void> {
  const last = await db.selectFrom('calendar_round_changes').select((eb) => eb.fn.max('seq').as('seq')).where('calendar_id', '=', calendarId).executeTakeFirst();
  let seq = Number(last?.seq ?? 0);
  for (let from = 0; from === 0 || from < part.changes.length; from += CHANGES_PER_ROW) {
    const row: KeptPart = { changes: part.changes.slice(from, from + CHANGES_PER_ROW), unreadable: from === 0 ? part.unreadable : [] };
    await db.insertInto('calendar_round_changes').values({ calendar_id: calendarId, seq: ++seq, payload: JSON.stringify(row) }).execute();
  }
}

/** The parts the calendar's round keeps, in the order they were read. */
export async function keptParts(db: Db, calendarId: number): Promise<KeptPart[]> {
  const rows = await db.selectFrom('calendar_round_changes').select('payload').where('calendar_id', '=', calendarId).orderBy('seq').execute();
  return rows.map((row) => JSON.parse(row.payload) as KeptPart);
}

/** Drops what the calendar's round keeps (applied, or the round abandoned). */
export async function dropKeptParts(db: Db, calendarId: number): Promise<void> {
  await db.deleteFrom('calendar_round_changes').where('calendar_id', '=', calendarId).execute();
}

/**
 * Gives up the rounds read in parts of a connection's calendars (its access revoked): their kept
 * parts go, and so do their cursors, so that a read once access returns lists each from its first
 * page. Kept instead, they would stay for as long as the connection stays revoked.
 */
export async function giveUpRoundsOfConnection(db: Db, connectionId: string, nowMs: number): Promise<void> {
  const rows = await db.selectFrom('calendar_round_changes').innerJoin('connected_calendars', 'connected_calendars.id', 'calendar_round_changes.calendar_id')
    .select('calendar_round_changes.calendar_id').distinct().where('connected_calendars.connection_id', '=', connectionId).execute();
  const ids = rows.map((row) => row.calendar_id);
  if (ids.length === 0) return;
  await db.deleteFrom('calendar_round_changes').where('calendar_id', 'in', ids).execute();
  await db.updateTable('connected_calendars').set({ sync_cursor: null, updated_at: nowMs }).where('id', 'in', ids).execute();
}
