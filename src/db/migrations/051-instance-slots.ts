import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `instance_slots`: for an Outlook instance (events.provider_series_id set), the start it had the
 * last time Graph listed it as a plain occurrence (type `occurrence`): its slot in the series'
 * pattern, which stays when the instance is moved (an exception) and Graph gives no original start
 * for it (microsoft-graph-docs issue 4353: originalStart is null). Filled here from the stored
 * instances that are plain occurrences now.
 *
 * `recurring_chains.served_slots`: for an Outlook series' chain, the slots of the instances it has
 * booked whose slots are known, each with the bot booked (JSON array of [slot, bot id], the latest
 * 50; null: none recorded), so that a week it served is known
 * again when it comes back under a new id and is moved (chain mode, recurring-chains.ts).
 */
export const instanceSlots: Migration = {
  version: 51,
  name: 'instance-slots',
  async up(db: Kysely<any>) {
    await db.schema.createTable('instance_slots')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('slot_start_ms', 'bigint', (c) => c.notNull())
      .execute();
    // The payload is stored as JSON.stringify wrote it: a plain occurrence has "type":"occurrence"
    // (a quote inside a text is escaped, so no text matches).
    await sql`
      INSERT INTO instance_slots (event_id, slot_start_ms)
      SELECT id, start_ms FROM events
      WHERE provider_series_id IS NOT NULL AND recurrence IS NULL AND is_deleted = 0 AND raw LIKE ${'%"type":"occurrence"%'}
    `.execute(db);
    // After the scan of events, so that recurring_chains is not held (PostgreSQL) while it runs.
    await db.schema.alterTable('recurring_chains').addColumn('served_slots', 'text').execute();
  },
};
