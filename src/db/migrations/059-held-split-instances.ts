import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * connected_calendars.held_instances: the instances a sync round did not delete although their
 * Outlook series now leaves them out, as JSON ([{ eventId, untilMs }]). Each is an occurrence a
 * bot that has gone to its meeting holds, whose series' range was cut in that round with nothing
 * yet continuing it: the first half of a "this and following events" split whose second half,
 * the new series, comes in a later round. It stays until untilMs (an hour on), when a round deletes
 * it if nothing has tied it to a new series by then (src/domain/split-hold.ts). Null when none.
 */
export const heldSplitInstances: Migration = {
  version: 59,
  name: 'held-split-instances',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connected_calendars').addColumn('held_instances', 'text').execute();
  },
};
