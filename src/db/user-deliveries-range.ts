// A user's webhook deliveries newest first, read by webhook_deliveries_user (user_id, id) whatever
// the planner guesses of where the user's rows lie.
import { sql, type RawBuilder } from 'kysely';

/**
 * The condition for the user's deliveries with an id below `beforeId` (all when null), to be read
 * with `.orderBy('user_id', 'desc').orderBy('id', 'desc')`. Written as a range over the index's
 * two columns rather than `user_id = ?`: given an equality, PostgreSQL knows user_id is one value,
 * sees that the primary key gives the id order too, and, taking the user's rows for evenly spread,
 * walks the whole table's newest rows backwards filtering them (every other user's since the
 * user's latest one: 150,000 rows, 30-45 ms, for a user whose deliveries are not the newest). A
 * range leaves the order to the user's index, which starts at the user's newest row. Ids are
 * positive and below 2^53 on both engines.
 */
export function userDeliveriesBefore(userId: string, beforeId: number | null): RawBuilder<boolean> {
  return sql<boolean>`(user_id, id) >= (${userId}, ${0}) and (user_id, id) < (${userId}, ${beforeId ?? Number.MAX_SAFE_INTEGER})`;
}
