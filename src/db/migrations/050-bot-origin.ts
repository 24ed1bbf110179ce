import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `bots.origin`: what booked the bot (api, dashboard, auto_schedule, chain, batch_top_up), written
 * once when it is created. Filled here, for the bots created before, from the status reason their
 * booking wrote (their first status change, a Scheduled one); a bot whose reason is another (it was
 * booked before reasons said where from) or is gone (its data was deleted) keeps none.
 */
export const botOrigin: Migration = {
  version: 50,
  name: 'bot-origin',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('bots').addColumn('origin', 'text').execute();
    await sql`
      UPDATE bots SET origin = CASE (
        SELECT CASE WHEN c.status = 'Scheduled' THEN c.reason END FROM bot_status_changes c WHERE c.bot_id = bots.id ORDER BY c.id LIMIT 1
      )
        WHEN 'Scheduled through the API' THEN 'api'
        WHEN 'Created through the API' THEN 'api'
        WHEN 'Scheduled from the dashboard' THEN 'dashboard'
        WHEN 'Created from the dashboard' THEN 'dashboard'
        WHEN 'Booked by auto-schedule' THEN 'auto_schedule'
        WHEN 'Booked by chain mode' THEN 'chain'
        WHEN 'Booked by its series'' schedule_all_occurrences batch, for an occurrence that had no bot' THEN 'batch_top_up'
      END
    `.execute(db);
  },
};
