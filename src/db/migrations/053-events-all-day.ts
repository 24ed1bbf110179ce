import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/** Events read per batch while the column is filled. */
const BATCH = 500;

/**
 * `events.is_all_day`: 1 for an all-day event, as the provider said when the event was last read
 * (a sync writes it), 0 otherwise and for every event written through the API. Before this it was
 * read from the stored payload each time it was asked, which could not be told once the payload
 * had lost it (a feed's VEVENT text dropped for size, a synced event PATCHed) and cost reading
 * every payload on the list pages.
 *
 * Filled here from the stored payloads by the rule they were read with (isAllDayRaw), without
 * telling the change feed. Only the
 * rows that can hold such a payload are read (a feed's events; Google's with a `date`; Graph's
 * with `isAllDay` true), a batch of ids at a time, and only the all-day ones written.
 *
 * A feed's event whose VEVENT text was dropped for size no longer says: the ICS calendars holding
 * one forget their feed's validators (ETag, Last-Modified) so that their next sync reads the whole
 * feed (a feed that has not changed would answer 304 and not be read) and writes the column.
 */
export const eventsAllDay: Migration = {
  version: 53,
  name: 'events-all-day',
  async up(db: Kysely<any>, engine) {
    await db.schema.alterTable('events').addColumn('is_all_day', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    // The change feed (migration 021) is not told: every event gains the field at once with this
    // version, and none changed in its calendar. Its triggers are held off while the rows are
    // written, as migration 036 did.
    if (engine === 'postgres') await sql`ALTER TABLE events DISABLE TRIGGER events_mark_change`.execute(db);
    else await sql`DROP TRIGGER events_mark_update`.execute(db);
    let after = '';
    for (;;) {
      // The next ids by the primary key alone, then the candidates among them: a batch reads a
      // bounded stretch of events_pkey however the planner judges the table (a table never
      // analyzed, as after a restore, otherwise had PostgreSQL sort every row past the cursor
      // for each batch, a fill that grew with the square of the table).
      const ids: { id: string }[] = await db.selectFrom('events').select('id').where('id', '>', after).orderBy('id').limit(BATCH).execute();
      if (ids.length === 0) break;
      const last = ids.at(-1)!.id;
      const rows: { id: string; raw: string }[] = await db.selectFrom('events').select(['id', 'raw'])
        .where('id', '>', after).where('id', '<=', last)
        .where((eb) => eb.or([
          eb('platform', '=', 'ics'),
          eb.and([eb('platform', '=', 'google_calendar'), eb('raw', 'like', '%"date":%')]),
          eb.and([eb('platform', '=', 'outlook_calendar'), eb('raw', 'like', '%"isAllDay":true%')]),
        ]))
        .execute();
      const allDay = rows.filter((row) => isAllDayRaw(row.raw)).map((row) => row.id);
      if (allDay.length > 0) await db.updateTable('events').set({ is_all_day: 1 }).where('id', 'in', allDay).execute();
      after = last;
      if (ids.length < BATCH) break;
    }
    if (engine === 'postgres') {
      await sql`ALTER TABLE events ENABLE TRIGGER events_mark_change`.execute(db);
    } else {
      // As migration 021 made it.
      await sql`
        CREATE TRIGGER events_mark_update AFTER UPDATE ON events WHEN NEW.change_seq = OLD.change_seq BEGIN
          UPDATE events SET change_seq = (SELECT max(change_seq) FROM events) + 1 WHERE rowid = NEW.rowid;
        END`.execute(db);
    }
    await forgetValidatorsOfCutFeeds(db);
  },
};

/**
 * Whether a stored payload says its event is all-day, by the rule the server read it with before
 * this migration (kept here as it was, so that the migration does what it did when it shipped):
 * Graph's `isAllDay`, Google's `start.date` without `dateTime`, or a feed's DTSTART with a bare
 * date (YYYYMMDD, RFC 5545 3.3.4) in the VEVENT text kept as `vevent`.
 */
export function isAllDayRaw(raw: string): boolean {
  let event: { start?: { date?: unknown; dateTime?: unknown }; isAllDay?: unknown; vevent?: unknown } | null;
  try {
    event = JSON.parse(raw) as typeof event;
  } catch {
    return false;
  }
  if (event === null || typeof event !== 'object') return false;
  if (event.isAllDay === true) return true;
  if (typeof event.start?.date === 'string' && event.start.dateTime === undefined) return true;
  return typeof event.vevent === 'string' && /^DTSTART(?:;[^:\r\n]*)?:\d{8}\s*$/m.test(event.vevent);
}

/** Clears the ETag and Last-Modified in the sync cursor of each ICS calendar holding a live event whose VEVENT text was dropped for size. */
async function forgetValidatorsOfCutFeeds(db: Kysely<any>): Promise<void> {
  const connections: { calendar_id: string }[] = await db.selectFrom('events').select('calendar_id').distinct()
    .where('platform', '=', 'ics').where('is_deleted', '=', 0).where('calendar_id', 'is not', null)
    .where('raw', 'like', '%"dropped_raw_fields":[%"vevent"%')
    .execute();
  for (const { calendar_id: connectionId } of connections) {
    const calendars: { id: number; sync_cursor: string | null }[] = await db.selectFrom('connected_calendars')
      .select(['id', 'sync_cursor']).where('connection_id', '=', connectionId).execute();
    for (const calendar of calendars) {
      if (calendar.sync_cursor === null) continue;
      let cursor: unknown;
      try {
        cursor = JSON.parse(calendar.sync_cursor);
      } catch {
        continue;
      }
      if (typeof cursor !== 'object' || cursor === null || Array.isArray(cursor)) continue;
      const kept = cursor as Record<string, unknown>;
      if ((kept.etag ?? null) === null && (kept.lastModified ?? null) === null) continue;
      await db.updateTable('connected_calendars').set({ sync_cursor: JSON.stringify({ ...kept, etag: null, lastModified: null }) }).where('id', '=', calendar.id).execute();
    }
  }
}
