// The changes of a full listing read in parts (FetchResult.round) kept until the round's last
// part, and the series entries of an incremental listing read in parts (FetchResult.incremental)
// held until its last part: written, read and deleted only inside a sync's transactions, after its
// hold is checked.
import type { ProviderChange } from '../adapters/calendars/calendar-provider.ts';
import { EventLoopPacer } from '../lib/event-loop-pacer.ts';
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

/** Rows read by one query of readKeptRound: some 20 × 250 changes, a few megabytes of JSON at once. */
export const KEPT_ROWS_PER_QUERY = 20;

/** What a calendar's round keeps, as one part in the order read; `rows` and `lastSeq` say which rows it was read from (keptRowsUnchanged). */
export interface KeptRound extends KeptPart {
  rows: number;
  lastSeq: number;
}

/**
 * Reads what the calendar's round keeps, in the order it was read: the rows a few at a time (by
 * seq), each parsed on its own with a turn for the event loop between rows once a slice is used
 * (a round of 100,000 changes is some 260 MB of JSON; parsed at once it held the loop for
 * seconds), and each row's text let go once parsed. Not in a transaction: on SQLite one holds the
 * process's only connection, and every other query would wait for the whole read; the apply's
 * transaction checks the rows are still these (keptRowsUnchanged).
 */
export async function readKeptRound(db: Db, calendarId: number): Promise<KeptRound> {
  const round: KeptRound = { changes: [], unreadable: [], rows: 0, lastSeq: 0 };
  const pacer = new EventLoopPacer();
  for (;;) {
    const rows: ({ seq: number; payload: string } | null)[] = await db.selectFrom('calendar_round_changes').select(['seq', 'payload'])
      .where('calendar_id', '=', calendarId).where('seq', '>', round.lastSeq).orderBy('seq').limit(KEPT_ROWS_PER_QUERY).execute();
    for (let i = 0; i < rows.length; i++) {
      await pacer.pace();
      const row = rows[i]!;
      rows[i] = null;
      const part = JSON.parse(row.payload) as KeptPart;
      for (const change of part.changes) round.changes.push(change);
      for (const id of part.unreadable) round.unreadable.push(id);
      round.rows++;
      round.lastSeq = Number(row.seq);
    }
    if (rows.length < KEPT_ROWS_PER_QUERY) return round;
  }
}

/**
 * The provider ids of the changes the calendar's round keeps, and of the series their occurrences
 * belong to (an incremental listing's held entries: a later entry of one of them, or of their
 * master, is held too).
 */
export async function keptChangeIds(db: Db, calendarId: number): Promise<Set<string>> {
  const round = await readKeptRound(db, calendarId);
  const ids = new Set<string>();
  for (const change of round.changes) {
    ids.add(changeId(change));
    if (change.type === 'upsert' && change.event.seriesProviderEventId !== null) ids.add(change.event.seriesProviderEventId);
  }
  return ids;
}

/** The provider id a change is about. */
export function changeId(change: ProviderChange): string {
  return change.type === 'removed' ? change.providerEventId : change.event.providerEventId;
}

/** Whether the calendar's round still keeps exactly the rows `round` was read from (none added, none dropped). */
export async function keptRowsUnchanged(db: Db, calendarId: number, round: Pick<KeptRound, 'rows' | 'lastSeq'>): Promise<boolean> {
  const now = await db.selectFrom('calendar_round_changes').select((eb) => [eb.fn.countAll().as('rows'), eb.fn.max('seq').as('lastSeq')]).where('calendar_id', '=', calendarId).executeTakeFirst();
  return Number(now?.rows ?? 0) === round.rows && Number(now?.lastSeq ?? 0) === round.lastSeq;
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
  const ids = [...(await calendarsWithRoundUnderway(db, connectionId))];
  if (ids.length === 0) return;
  await db.deleteFrom('calendar_round_changes').where('calendar_id', 'in', ids).execute();
  await db.updateTable('connected_calendars').set({ sync_cursor: null, updated_at: nowMs }).where('id', 'in', ids).execute();
}

/**
 * The calendars of a connection (by their row ids) whose round read in parts is under way: some
 * part kept, not yet applied. Their stored events keep their old state until the round's last
 * part, so the meetings whose bots join soon are looked up one by one meanwhile
 * (FetchContext.confirm).
 */
export async function calendarsWithRoundUnderway(db: Db, connectionId: string): Promise<Set<number>> {
  const rows = await db.selectFrom('calendar_round_changes').innerJoin('connected_calendars', 'connected_calendars.id', 'calendar_round_changes.calendar_id')
    .select('calendar_round_changes.calendar_id').distinct().where('connected_calendars.connection_id', '=', connectionId).execute();
  return new Set(rows.map((row) => Number(row.calendar_id)));
}
