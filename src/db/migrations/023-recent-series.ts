import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * connected_calendars.recent_series: the series a sync round saw appear on the calendar in the
 * last hour, as JSON ([{ seriesId, untilMs }]), so that an Outlook split whose two halves reach
 * Rollcall in different rounds is still recognised (src/services/calendars/truncated-series.ts).
 */
export const recentSeries: Migration = {
  version: 23,
  name: 'recent-series',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connected_calendars').addColumn('recent_series', 'text').execute();
  },
};
