import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * calendar_connections.lease_owner: a token of the sync that holds the connection (with
 * lease_until), so that a sync that has lost its hold (it outlived its lease and another sync took
 * the connection) can tell, and writes nothing more (src/services/calendars/sync-leases.ts).
 */
export const syncLeaseOwner: Migration = {
  version: 25,
  name: 'sync-lease-owner',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('calendar_connections').addColumn('lease_owner', 'text').execute();
  },
};
