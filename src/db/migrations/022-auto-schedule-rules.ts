import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * auto_schedule_settings.rules: which meetings auto-schedule books (organizer, the owner's answer,
 * participants' domains, recurring or not: src/domain/auto-schedule-rules.ts), as JSON. Null
 * until a client sets them: every meeting with a link, as before.
 */
export const autoScheduleRules: Migration = {
  version: 22,
  name: 'auto-schedule-rules',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('auto_schedule_settings').addColumn('rules', 'text').execute();
  },
};
