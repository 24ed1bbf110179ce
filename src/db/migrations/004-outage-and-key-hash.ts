import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * - service_health: one row the database health probe writes, so that "available" means "can
 *   commit a write" (a reachable server with a full disk is not available).
 * - bots.deduplication_key_hash: the live-key uniqueness rule indexes a sha256 of the key instead
 *   of the key itself. A 2,000-character key can be 8,000 bytes of UTF-8, past PostgreSQL's btree
 *   entry limit (about 2,700 bytes), which made long non-ASCII keys a 500.
 */
export const outageAndKeyHash: Migration = {
  version: 4,
  name: 'outage-and-key-hash',
  async up(db: Kysely<any>) {
    await db.schema.createTable('service_health')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('probed_at', 'bigint', (c) => c.notNull())
      // Filled only by the probe's space check, and removed again at once.
      .addColumn('padding', 'text')
      .execute();
    await db.insertInto('service_health').values({ id: 1, probed_at: 0 }).execute();

    await db.schema.alterTable('bots').addColumn('deduplication_key_hash', 'text').execute();
    for (let after = ''; ;) {
      const rows = await db.selectFrom('bots').select(['id', 'deduplication_key']).where('id', '>', after).orderBy('id').limit(1000).execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        await db.updateTable('bots').set({ deduplication_key_hash: hashDeduplicationKey(row.deduplication_key) }).where('id', '=', row.id).execute();
      }
      after = rows[rows.length - 1]!.id;
    }
    await db.schema.dropIndex('bots_one_live_per_key').execute();
    await db.schema.createIndex('bots_one_live_per_key').on('bots')
      .columns(['user_id', 'deduplication_key_hash']).unique()
      .where(sql.ref('status'), 'in', sql`('Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting')`)
      .execute();
  },
};

/** Kept here, not imported, so that this migration means the same whatever later code does. */
function hashDeduplicationKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
