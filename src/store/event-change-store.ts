// Reads events in the order of their latest change (GET /calendar/events/changes). The database
// itself marks each change (migration 021): the positions are only read here.
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../db/database.ts';
import type { EventRow, Schema } from '../db/schema.ts';

/**
 * Where a change stands in a user's feed: the writing transaction's id (PostgreSQL; "0" on SQLite
 * and for rows older than the feed), the change's sequence number, then the event id.
 */
export interface ChangePosition {
  xid: string;
  seq: number;
  id: string;
}

export const FEED_START: ChangePosition = Object.freeze({ xid: '0', seq: 0, id: '' });

/**
 * The user's events changed after `after`, in feed order, at most `limit`; deleted ones included.
 * On PostgreSQL only changes of transactions older than every transaction still running are
 * served, so a change that commits later can never fall behind a position already answered.
 */
export async function listEventChanges(db: Kysely<Schema>, engine: Engine, userId: string, after: ChangePosition, limit: number): Promise<{ row: EventRow; position: ChangePosition }[]> {
  if (engine === 'postgres') {
    // xid8 has no type parser in pg: it arrives as its decimal text.
    const result = await sql<EventRow & { change_xid: string; change_seq: number }>`
      SELECT * FROM events
      WHERE user_id = ${userId}
        AND change_xid < pg_snapshot_xmin(pg_current_snapshot())
        AND (change_xid, change_seq, id) > (${after.xid}::xid8, ${after.seq}, ${after.id})
      ORDER BY change_xid, change_seq, id
      LIMIT ${limit}`.execute(db);
    return result.rows.map(({ change_xid, change_seq, ...row }) => ({ row: row as EventRow, position: { xid: change_xid, seq: Number(change_seq), id: row.id } }));
  }
  const result = await sql<EventRow & { change_seq: number }>`
    SELECT * FROM events
    WHERE user_id = ${userId} AND (change_seq, id) > (${after.seq}, ${after.id})
    ORDER BY change_seq, id
    LIMIT ${limit}`.execute(db);
  return result.rows.map(({ change_seq, ...row }) => ({ row: row as EventRow, position: { xid: '0', seq: Number(change_seq), id: row.id } }));
}

/**
 * PostgreSQL: whether a position's transaction id is one this server has not reached yet, which
 * only a cursor from another history can hold (a backup restored to an earlier point, a failover
 * that lost transactions): following it would skip the changes made since.
 */
export async function isAheadOfServer(db: Kysely<Schema>, position: ChangePosition): Promise<boolean> {
  if (position.xid === '0') return false;
  const result = await sql<{ ahead: boolean }>`SELECT ${position.xid}::xid8 >= pg_snapshot_xmax(pg_current_snapshot()) AS ahead`.execute(db);
  return result.rows[0]?.ahead === true;
}
