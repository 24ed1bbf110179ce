import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `schedules.retry_asked_at_ms`: when a launch waiting to be retried asked to be tried again (its
 * backoff, or the runtime's `Retry-After`), before that was held to the meeting's end. The due time
 * is the held one; a meeting that moves while the retry waits has the due time derived again from
 * this and its new end (src/services/scheduling/bot-lifecycle.ts, followMeetingEnd), so that a
 * meeting moved later is not failed at the end it had, nor tried sooner than the runtime asked.
 * Null for a row no retry wrote: its due time is then taken as what was asked. A value may be
 * stale (an older instance's retry leaves it as it was): a due time before the old end was not
 * held, and is taken as what was asked over it.
 */
export const retryAskedAt: Migration = {
  version: 40,
  name: 'retry-asked-at',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('schedules').addColumn('retry_asked_at_ms', 'bigint').execute();
  },
};
