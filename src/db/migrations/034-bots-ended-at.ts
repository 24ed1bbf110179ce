import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `bots.ended_at_ms`: when the bot reached the status it ended in (set by transitionBot, the one
 * place a bot stops being live, with the status change it logs); null while it is live. The Ended
 * list is ordered by it, latest first, paged on the index (user, ended_at_ms, id): a bot cancelled
 * ahead of next month's meeting is listed when it was cancelled, not at its join time.
 *
 * Bots that ended before get the instant of the logged change that brought them to their status,
 * as the list's `ended_at` reads it; one whose change was never logged, its last update.
 */
export const botsEndedAt: Migration = {
  version: 34,
  name: 'bots-ended-at',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('bots').addColumn('ended_at_ms', 'bigint').execute();
    await sql`update bots set ended_at_ms = coalesce(
      (select c.at_ms from bot_status_changes c where c.bot_id = bots.id and c.status = bots.status order by c.id desc limit 1),
      updated_at
    ) where is_live = 0`.execute(db);
    await db.schema.createIndex('bots_user_ended').on('bots').columns(['user_id', 'ended_at_ms', 'id']).execute();
  },
};
