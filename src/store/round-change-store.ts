// The changes of a full listing read in parts (FetchResult.round) kept until the round's last
// part: written, read and deleted only inside a sync's transactions, after its hold is checked.
import type { ProviderChange } from '../adapters/calendars/calendar-provider.ts';
import type { Db } from './event-store.ts';

/** What one part of a round read: its changes in the provider's order, and the ids it listed in a shape it could not read. */
export interface KeptPart {
  changes: ProviderChange[];
  unreadable: string[];
}

/** Keeps a part after those the calendar's round already keeps. */
export async function keepPart(db: Db, calendarId: number, part: KeptPart): Promise<void> {
  const last = await db.selectFrom('calendar_round_changes').select((eb) => eb.fn.max('seq').as('seq')).where('calendar_id', '=', calendarId).executeTakeFirst();
  const seq = Number(last?.seq ?? 0) + 1;
  await db.insertInto('calendar_round_changes').values({ calendar_id: calendarId, seq, payload: JSON.stringify(part) }).execute();
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
