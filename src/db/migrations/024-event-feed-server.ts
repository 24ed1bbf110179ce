import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * PostgreSQL: event_feed_server holds the identifier of the server whose transaction ids number
 * the event change feed (migration 021). A database restored on another server (pg_dump, logical
 * replication) brings positions from the old server's ids; the start-up after such a move finds
 * another identifier here and numbers every event again (src/db/event-feed-server.ts). SQLite
 * numbers changes itself and needs none.
 */
export const eventFeedServer: Migration = {
  version: 24,
  name: 'event-feed-server',
  async up(db: Kysely<any>, engine) {
    if (engine !== 'postgres') return;
    // Filled in by the start-up step that follows the migrations (it reads the identifier, where
    // the server lets it).
    await sql`CREATE TABLE event_feed_server (id integer PRIMARY KEY CHECK (id = 1), system_identifier text NOT NULL)`.execute(db);
  },
};
