import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * An Outlook occurrence's series rule: Graph keeps the recurrence on the series master, which
 * Rollcall does not store as an event (its occurrences arrive expanded), so each occurrence keeps
 * the master's pattern written as an RFC 5545 RRULE line (src/domain/graph-recurrence.ts).
 * toggle-recurrence answers it as `recurrence_rule`. Null for every other event.
 */
export const seriesRule: Migration = {
  version: 30,
  name: 'series-rule',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('events').addColumn('series_rule', 'text').execute();
  },
};
