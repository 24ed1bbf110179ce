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
    await db.schema.createIndex('events_user_series_end').on('events').columns(['user_id', 'series_end_ms'])
      .where(sql.ref('recurrence'), 'is not', sql.lit(null)).execute();
  },
};
