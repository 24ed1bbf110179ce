import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * The position of each event's latest change, for GET /calendar/events/changes
 * (src/store/event-change-store.ts). Set by the database on every insert and update of a row, so
 * that no write path can leave a change out:
 *
 * - SQLite: `events.change_seq`, one more than the highest so far. Writers take turns, so the
 *   order is commit order.
 * - PostgreSQL: `events.change_xid`, the writing transaction's id, and `events.change_seq` from a
 *   sequence. Neither is commit order (a transaction can take a lower one and commit later), so
 *   the feed serves a change only once every transaction older than the oldest still running has
 *   ended (`pg_snapshot_xmin`), ordered by (change_xid, change_seq): a later commit can never
 *   land behind a cursor already handed out.
 *
 * Rows from before this migration keep 0 and come first, in id order.
 */
export const eventChangeFeed: Migration = {
  version: 21,
  name: 'event-change-feed',
  async up(db: Kysely<any>, engine) {
    if (engine === 'postgres') {
      await sql`ALTER TABLE events ADD COLUMN change_seq bigint NOT NULL DEFAULT 0`.execute(db);
      await sql`ALTER TABLE events ADD COLUMN change_xid xid8 NOT NULL DEFAULT '0'`.execute(db);
      await sql`CREATE SEQUENCE events_change_seq`.execute(db);
      await sql`
        CREATE FUNCTION events_mark_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.change_xid := pg_current_xact_id();
          NEW.change_seq := nextval('events_change_seq');
          RETURN NEW;
        END $$`.execute(db);
      await sql`CREATE TRIGGER events_mark_change BEFORE INSERT OR UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_mark_change()`.execute(db);
      await sql`CREATE INDEX events_user_change ON events (user_id, change_xid, change_seq, id)`.execute(db);
      return;
    }
    await sql`ALTER TABLE events ADD COLUMN change_seq integer NOT NULL DEFAULT 0`.execute(db);
    await sql`CREATE INDEX events_change_seq ON events (change_seq)`.execute(db);
    await sql`CREATE INDEX events_user_change ON events (user_id, change_seq, id)`.execute(db);
    // The WHEN clause keeps the trigger's own update from firing it again, whatever recursive_triggers says.
    await sql`
      CREATE TRIGGER events_mark_insert AFTER INSERT ON events BEGIN
        UPDATE events SET change_seq = (SELECT max(change_seq) FROM events) + 1 WHERE rowid = NEW.rowid;
      END`.execute(db);
    await sql`
      CREATE TRIGGER events_mark_update AFTER UPDATE ON events WHEN NEW.change_seq = OLD.change_seq BEGIN
        UPDATE events SET change_seq = (SELECT max(change_seq) FROM events) + 1 WHERE rowid = NEW.rowid;
      END`.execute(db);
  },
};
