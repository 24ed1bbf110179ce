// The event change feed on PostgreSQL orders changes by the writing transaction's id (migration
// 021). Those ids belong to one server: a database dumped and restored on another one, or copied
// by logical replication, keeps the old server's ids in its rows, ahead of or behind the new
// server's own. At start-up, with the migration lock held, a server identifier that differs from
// the one recorded means the database moved: every event is numbered again from this server's
// ids (one UPDATE; the trigger does the numbering), and clients holding a cursor of the old
// server are told to start again (its cursors name the server). A promoted physical replica keeps
// the identifier and the ids, and nothing happens.
import { sql, type Kysely } from 'kysely';

/**
 * This server's identifier (pg_control_system, which PostgreSQL lets any role read), or '' where
 * a hosted service does not let it be read: the move check is then off.
 */
export async function serverIdentifier(db: Kysely<any>): Promise<string> {
  try {
    const result = await sql<{ id: string }>`SELECT system_identifier::text AS id FROM pg_control_system()`.execute(db);
    return result.rows[0]?.id ?? '';
  } catch (error) {
    if (isRefused(error)) return '';
    throw error;
  }
}

/**
 * Numbers every event again when the database has moved to another server; answers whether it
 * did. The first start-up records the server; one where the identifier cannot be read does
 * nothing.
 */
export async function alignEventFeedWithServer(db: Kysely<any>): Promise<boolean> {
  // A refusal aborts what the transaction did since the savepoint only.
  await sql`SAVEPOINT read_server_identifier`.execute(db);
  const current = await serverIdentifier(db);
  if (current === '') {
    await sql`ROLLBACK TO SAVEPOINT read_server_identifier`.execute(db);
    return false;
  }
  await sql`RELEASE SAVEPOINT read_server_identifier`.execute(db);
  const stored = await sql<{ id: string }>`SELECT system_identifier AS id FROM event_feed_server WHERE id = 1`.execute(db);
  if (stored.rows[0]?.id === current) return false;
  // Recorded for the first time: the rows were numbered by this server.
  if (stored.rows.length > 0) await sql`UPDATE events SET change_seq = 0`.execute(db);
  await sql`INSERT INTO event_feed_server (id, system_identifier) VALUES (1, ${current}) ON CONFLICT (id) DO UPDATE SET system_identifier = EXCLUDED.system_identifier`.execute(db);
  return stored.rows.length > 0;
}

/** PostgreSQL refused the function to this role (42501 insufficient_privilege). */
function isRefused(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '42501';
}
