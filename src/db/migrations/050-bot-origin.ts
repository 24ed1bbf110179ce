import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/** The reasons bookings wrote, and the origin each says. */
const ORIGIN_BY_REASON: Record<string, string> = {
  'Scheduled through the API': 'api',
  'Created through the API': 'api',
  'Scheduled from the dashboard': 'dashboard',
  'Created from the dashboard': 'dashboard',
  'Booked by auto-schedule': 'auto_schedule',
  'Booked by chain mode': 'chain',
  'Booked by its series\' schedule_all_occurrences batch, for an occurrence that had no bot': 'batch_top_up',
};

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
    // The reason a bot's booking wrote: its first status change, if that is a Scheduled one.
    const bookingReason = sql`(SELECT CASE WHEN c.status = 'Scheduled' THEN c.reason END FROM bot_status_changes c WHERE c.bot_id = bots.id ORDER BY c.id LIMIT 1)`;
    const origins = Object.entries(ORIGIN_BY_REASON);
    // Only the bots that gain an origin are written: on PostgreSQL every row an UPDATE touches gets
    // a new version (its indexes written again), under the lock ALTER TABLE took.
    await sql`
      UPDATE bots SET origin = CASE ${bookingReason}
        ${sql.join(origins.map(([reason, origin]) => sql`WHEN ${sql.lit(reason)} THEN ${sql.lit(origin)}`), sql` `)}
      END
      WHERE ${bookingReason} IN (${sql.join(origins.map(([reason]) => sql.lit(reason)))})
    `.execute(db);
  },
};
