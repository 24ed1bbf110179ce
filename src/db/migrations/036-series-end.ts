import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';
import { seriesEndMs } from '../../domain/recurrence.ts';

/**
 * `events.series_end_ms`: for a series, when the last occurrence its rule makes is over (null when
 * the rule has no end; see CompiledSeries.lastEndMs), written with the series by the API and by
 * calendar sync. The events list and auto-schedule read only series that are not over (index
 * `events_user_series_end`, partial on series), instead of every series the user ever had, each
 * walked to the window in JavaScript.
 *
 * Every stored series is read once here to fill it in. The change feed (migration 021) is not
 * told: nothing a client reads has changed, so its triggers are held off while the rows are written.
 *
 * A writer that does not know the column (an instance of an older release still running during
 * an upgrade) would change a series' rule and leave the end of the old one, and the series would
 * be passed by as over. So the database forgets the end whenever an update changes the rule,
 * times or zone of a series and leaves the end as it was (`events_forget_series_end`): a series
 * without an end stored is read every time. Rollcall's own writes give the new end with the new
 * rule; one equal to the old end is forgotten all the same, which costs reads, never a meeting.
 */
export const seriesEnd: Migration = {
  version: 36,
  name: 'series-end',
  async up(db: Kysely<any>, engine) {
    await db.schema.alterTable('events').addColumn('series_end_ms', 'bigint').execute();
    if (engine === 'postgres') await sql`ALTER TABLE events DISABLE TRIGGER events_mark_change`.execute(db);
    else await sql`DROP TRIGGER events_mark_update`.execute(db);

    let afterId = '';
    for (;;) {
      const rows: { id: string; start_ms: number | string; end_ms: number | string; timezone: string | null; recurrence: string }[] = await db
        .selectFrom('events').select(['id', 'start_ms', 'end_ms', 'timezone', 'recurrence'])
        .where('recurrence', 'is not', null).where('id', '>', afterId).orderBy('id').limit(500).execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        let recurrence: string[];
        try {
          recurrence = JSON.parse(row.recurrence) as string[];
        } catch {
          continue; // unreadable: stays null, read as a series without end
        }
        const endMs = seriesEndMs({ startMs: Number(row.start_ms), endMs: Number(row.end_ms), timeZone: row.timezone ?? 'UTC', recurrence });
        if (endMs !== null) await db.updateTable('events').set({ series_end_ms: endMs }).where('id', '=', row.id).execute();
      }
      afterId = rows.at(-1)!.id;
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
    if (engine === 'postgres') {
      await sql`
        CREATE FUNCTION events_forget_series_end() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.series_end_ms := NULL;
          RETURN NEW;
        END $$`.execute(db);
      await sql`
        CREATE TRIGGER events_forget_series_end BEFORE UPDATE ON events FOR EACH ROW
        WHEN (NEW.series_end_ms IS NOT NULL AND NEW.series_end_ms = OLD.series_end_ms
          AND (NEW.start_ms, NEW.end_ms, NEW.timezone, NEW.recurrence) IS DISTINCT FROM (OLD.start_ms, OLD.end_ms, OLD.timezone, OLD.recurrence))
        EXECUTE FUNCTION events_forget_series_end()`.execute(db);
    } else {
      await sql`
        CREATE TRIGGER events_forget_series_end AFTER UPDATE OF start_ms, end_ms, timezone, recurrence ON events
        WHEN NEW.series_end_ms IS NOT NULL AND NEW.series_end_ms = OLD.series_end_ms
          AND (NEW.start_ms IS NOT OLD.start_ms OR NEW.end_ms IS NOT OLD.end_ms OR NEW.timezone IS NOT OLD.timezone OR NEW.recurrence IS NOT OLD.recurrence)
        BEGIN
          UPDATE events SET series_end_ms = NULL WHERE rowid = NEW.rowid;
        END`.execute(db);
    }
    await db.schema.createIndex('events_user_series_end').on('events').columns(['user_id', 'series_end_ms'])
      .where(sql.ref('recurrence'), 'is not', sql.lit(null)).execute();
  },
};
