import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `connected_calendars.left_unread_at`: when a sync last left the calendar unread because a read
 * of another calendar of its account met a provider's limit (a part of a round that ended at one,
 * lookups that met one), the sync ending there rather than asking the provider for more during
 * its Retry-After. The next sync reads such calendars first, those left longest first
 * (readingOrder in src/domain/calendar-read-order.ts), so that a calendar whose reads keep meeting
 * limits does not keep the others unread. Null for every other calendar; cleared once a sync
 * reaches the calendar.
 */
export const calendarLeftUnread: Migration = {
  version: 57,
  name: 'calendar-left-unread',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connected_calendars').addColumn('left_unread_at', 'bigint').execute();
  },
};
