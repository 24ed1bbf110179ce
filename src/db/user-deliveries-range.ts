// A user's webhook deliveries newest first, read by webhook_deliveries_user (user_id, id) on both
// engines, each given the condition its planner reads that index by.
import { sql, type RawBuilder } from 'kysely';
import type { Engine } from './database.ts';

/**
 * The condition for the user's deliveries with an id below `beforeId` (all when null), to be read
 * with `.orderBy('user_id', 'desc').orderBy('id', 'desc')`.
 *
 * SQLite: `user_id = ? and id < ?`, which it seeks in the index straight to the cursor
 * (EXPLAIN QUERY PLAN: `user_id=? AND id<?`), so a deep page costs what the first does. A row-value
 * range there seeks on user_id alone and walks the user's rows from the newest down to the cursor
 * on every page.
 *
 * PostgreSQL: a range over the index's two columns. Given `user_id = ?` it knows user_id is one
 * value, sees that the primary key gives the id order too and, taking the user's rows for evenly
 * spread, may walk the whole table's newest rows backwards filtering them (every other user's since
 * the user's latest one). The row range leaves the order to the user's index, whose row
 * comparison it seeks to the cursor. Ids are positive and below 2^53.
 */
export function userDeliveriesBefore(engine: Engine, userId: string, beforeId: number | null): RawBuilder<boolean> {
  if (engine === 'sqlite') {
    return beforeId === null ? sql<boolean>`user_id = ${userId}` : sql<boolean>`user_id = ${userId} and id < ${beforeId}`;
  }
  return sql<boolean>`(user_id, id) >= (${userId}, ${0}) and (user_id, id) < (${userId}, ${beforeId ?? Number.MAX_SAFE_INTEGER})`;
}
