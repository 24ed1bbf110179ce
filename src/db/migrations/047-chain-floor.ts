import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `recurring_chains.floor_start_ms`: for the chain of an Outlook series (no series row), the start
 * the instance the chain was started at had then. Instances starting before it are the ones the
 * client left out; an instance that starts between it and the chain's place (moved earlier than
 * the one the chain waits for, say) and has not started is the chain's, and is booked out of turn.
 * Null: a series row's chain, or an Outlook chain from before, which takes its place as its floor
 * at its next pass.
 */
export const chainFloor: Migration = {
  version: 47,
  name: 'chain-floor',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('recurring_chains').addColumn('floor_start_ms', 'bigint').execute();
  },
};
