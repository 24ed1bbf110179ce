import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * bot_events.end_cause: why a link ended, where that decides what may come after it: `declined`
 * (the owner declined the invitation and auto-schedule's bot was taken back) and, since auto-
 * schedule takes back what no longer passes its rules, `rules`. Such a link does not count as
 * "this event has had a bot", so auto-schedule books the event again if the owner accepts after
 * all, or it passes the rules again. Null for every other end, and for live links.
 */
export const linkEndCause: Migration = {
  version: 20,
  name: 'link-end-cause',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('bot_events').addColumn('end_cause', 'text').execute();
  },
};
