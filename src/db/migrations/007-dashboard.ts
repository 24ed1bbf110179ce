import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * The dashboard: its sign-ins (an API key exchanged for a session; only the sha256 of the session
 * token is stored, and a session ends when the key it was opened with is revoked), and an index
 * for listing one user's webhook deliveries newest first.
 */
export const dashboard: Migration = {
  version: 7,
  name: 'dashboard',
  async up(db: Kysely<any>) {
    await db.schema.createTable('dashboard_sessions')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('api_key_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('dashboard_sessions_expiry').on('dashboard_sessions').column('expires_at').execute();
    await db.schema.createIndex('webhook_deliveries_user').on('webhook_deliveries').columns(['user_id', 'id']).execute();
  },
};
