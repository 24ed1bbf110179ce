import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `events.zone_rules`: an ICS series whose zone no IANA zone keeps (an Outlook "Customized Time
 * Zone") keeps its VTIMEZONE's observances (domain/observed-offsets.ts, observancesText), and is
 * expanded by them in every year; its `timezone` is then a fixed-offset stand-in, for display.
 * Null for every other event.
 *
 * A series stored before this change has none until its feed is next read, which writes them
 * with its lines (no longer carrying EXDATE/RDATE corrections). A feed that has not changed
 * answers a conditional GET with 304 and is not read at all, so such a series would keep its
 * earlier form for as long as its feed stays the same: the calendars holding one forget their
 * feed's validators (ETag, Last-Modified), and their next sync reads the whole feed. Such a series
 * cannot be told from others by its zone alone (its stand-in is Etc/GMT±N, or UTC for an offset of
 * 0, or an IANA zone of a fractional offset such as Asia/Kolkata), so every ICS calendar holding a
 * recurring series without zone_rules has its feed read whole once: one download each.
 */
export const seriesZoneRules: Migration = {
  version: 49,
  name: 'series-zone-rules',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('events').addColumn('zone_rules', 'text').execute();
    await forgetValidatorsOfPlacedSeries(db);
  },
};

/**
 * Clears the ETag and Last-Modified kept in the sync cursor of each ICS calendar holding a series
 * stored in the earlier placed form (see above); the rest of the cursor stays.
 */
export async function forgetValidatorsOfPlacedSeries(db: Kysely<any>): Promise<number> {
  const connections: { calendar_id: string }[] = await db.selectFrom('events')
    .innerJoin('calendar_connections', 'calendar_connections.id', 'events.calendar_id')
    .select('events.calendar_id')
    .distinct()
    .where('calendar_connections.provider', '=', 'ics')
    .where('events.recurrence', 'is not', null)
    .where('events.zone_rules', 'is', null)
    .where('events.is_deleted', '=', 0)
    .execute();
  let cleared = 0;
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
      cleared++;
    }
  }
  return cleared;
}
