import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `events.meeting_url_given`: 1 when the client gave the event's `meeting_url` through the API, 0
 * when it was found in the location or description, null for rows from before (and for synced
 * events, whose link the provider gives). A given link is kept when the location or description
 * changes; a found one is looked for again. Before, a given link that also appeared in the text
 * was taken for a found one, and lost when the text changed.
 */
export const meetingUrlGiven: Migration = {
  version: 33,
  name: 'meeting-url-given',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('events').addColumn('meeting_url_given', 'integer').execute();
  },
};
