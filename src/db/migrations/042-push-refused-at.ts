import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `connected_calendars.push_refused_at`: when the provider last said that the calendar takes no
 * push channel at all (Google's 400 pushNotSupportedForRequestedResource, on the calendars it
 * generates: a country's holidays, say). No channel is asked for on it again for a day
 * (PUSH_REFUSAL_MEMORY_MS in src/services/calendars/calendar-sync.ts), where it was asked at every
 * sync, a failing call every 5 minutes. Null for every other calendar; cleared by a channel that
 * opens and by connecting the account again.
 */
export const pushRefusedAt: Migration = {
  version: 42,
  name: 'push-refused-at',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connected_calendars').addColumn('push_refused_at', 'bigint').execute();
  },
};
