import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `bot_events.let_go_at`: the instant the link's event let go of its bot while the bot was live
 * (the event deleted, cancelled or moved into the past, its meeting link taken out or pointing at
 * another meeting while other events still share the bot, the bot unscheduled from it, its
 * calendar disconnected, the invitation declined or the meeting no longer passing the rules so
 * that auto-schedule took its bot back, or its bot giving way at launch to another bot going to
 * the same meeting). Written by the code that ends such a link (endLink, letGoLinksOfBot), never
 * when a bot's own ending ends the links still holding it. `GET /bots/{bot_id}` answers it as the
 * event's `removed_at`.
 *
 * Links that ended before are left null: their `updated_at` is not a sure record of the instant
 * (a stopped launch, a moved instance or a followed series rewrite it), and a link that ended in
 * the same instant as its bot cannot be told to have been let go of rather than ended with it.
 */
export const linkLetGoAt: Migration = {
  version: 58,
  name: 'link-let-go-at',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('bot_events').addColumn('let_go_at', 'bigint').execute();
  },
};
