import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `calendar_round_changes`: the changes of a full listing read in parts (Google: a first sync, or
 * one after a 410) kept until the round's last part, which applies them with its own as one full
 * sync and deletes them in the same transaction. Rows in the order read (`seq` from 1), each
 * `payload` up to a page's worth of a part's changes (250) and its unreadable ids, as JSON. A round begun again from its first page deletes the
 * rows of the one it abandons; a calendar removed takes its rows with it.
 */
export const calendarRoundChanges: Migration = {
  version: 56,
  name: 'calendar-round-changes',
  async up(db: Kysely<any>) {
    await db.schema.createTable('calendar_round_changes')
      .addColumn('calendar_id', 'integer', (c) => c.notNull().references('connected_calendars.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('calendar_round_changes_pk', ['calendar_id', 'seq'])
      .execute();
  },
};
