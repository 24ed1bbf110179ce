import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `recurring_chains.passed_keys`: the occurrences a chain passed because they could not be booked
 * when it came to them (no meeting link, their key taken), as a JSON array of occurrence keys, the
 * latest 50. Such an occurrence is booked once it can be, out of turn, while it is still to come;
 * before, it was left behind for good. Null: none; chains from before start with none. (An
 * Outlook series' chain records instance ids, and books no instance behind its place.)
 */
export const chainPassedOccurrences: Migration = {
  version: 38,
  name: 'chain-passed-occurrences',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('recurring_chains').addColumn('passed_keys', 'text').execute();
  },
};
