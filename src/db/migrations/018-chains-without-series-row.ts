import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * recurring_chains.series_event_id no longer references events.id: a chain may run over an
 * Outlook series, which has no event row of its own (its instances do) and is named
 * `instances:<connection id>:<master id>` (src/domain/instance-series.ts), as its batches are in
 * series_bookings. Events are only ever soft-deleted, so the reference guarded nothing else.
 * PostgreSQL drops the constraint; SQLite cannot, so there the table is built again.
 */
export const chainsWithoutSeriesRow: Migration = {
  version: 18,
  name: 'chains-without-series-row',
  async up(db: Kysely<any>, engine) {
    if (engine === 'postgres') {
      const { rows } = await sql<{ conname: string }>`select conname from pg_constraint where conrelid = 'recurring_chains'::regclass and contype = 'f'`.execute(db);
      for (const { conname } of rows) await sql`alter table recurring_chains drop constraint ${sql.id(conname)}`.execute(db);
      return;
    }
    await db.schema.createTable('recurring_chains_next')
      .addColumn('series_event_id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('is_enabled', 'integer', (c) => c.notNull())
      .addColumn('deduplication_key', 'text')
      .addColumn('bot_config', 'text', (c) => c.notNull())
      .addColumn('current_bot_id', 'text')
      .addColumn('current_occurrence_key', 'text')
      .addColumn('next_check_at_ms', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    const columns = sql.raw('series_event_id, user_id, is_enabled, deduplication_key, bot_config, current_bot_id, current_occurrence_key, next_check_at_ms, last_error, created_at, updated_at');
    await sql`insert into recurring_chains_next (${columns}) select ${columns} from recurring_chains`.execute(db);
    await db.schema.dropTable('recurring_chains').execute();
    await db.schema.alterTable('recurring_chains_next').renameTo('recurring_chains').execute();
    await db.schema.createIndex('recurring_chains_enabled').on('recurring_chains').columns(['is_enabled', 'next_check_at_ms']).execute();
  },
};
