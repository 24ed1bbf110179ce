import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * runtime_commands.wakes_on_change: 1 while a pending command waits for a time it chose itself
 * (a provider bot to be withdrawn at its delete cutoff, an old join time to come), not for a
 * failure's backoff or a provider's Retry-After. A new change for the bot brings such a command
 * forward to now, so that the change does not wait for that time; a backoff is left as it is.
 */
export const commandWakesOnChange: Migration = {
  version: 16,
  name: 'command-wakes-on-change',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('runtime_commands').addColumn('wakes_on_change', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
