import type { Migration } from '../migrator.ts';
import { initial } from './001-initial.ts';
import { calendarConnections } from './002-calendar-connections.ts';
import { runtimeCommands } from './003-runtime-commands.ts';
import { outageAndKeyHash } from './004-outage-and-key-hash.ts';
import { calendarSeriesAndSelection } from './005-calendar-series-and-selection.ts';
import { providerBotIds } from './006-provider-bot-ids.ts';
import { dashboard } from './007-dashboard.ts';
import { meetstreamSurface } from './008-meetstream-surface.ts';
import { providerHandovers } from './009-provider-handovers.ts';
import { calendarSourceFields } from './010-calendar-source-fields.ts';
import { partialBotKeyIndexes } from './011-partial-bot-key-indexes.ts';
import { liveKeyFlag } from './012-live-key-flag.ts';
import { providerHeldConfig } from './013-provider-held-config.ts';
import { providerFirstSent } from './014-provider-first-sent.ts';
import { providerKeyGenerations } from './015-provider-key-generations.ts';
import { commandWakesOnChange } from './016-command-wakes-on-change.ts';
import { seriesBookings } from './017-series-bookings.ts';
import { chainsWithoutSeriesRow } from './018-chains-without-series-row.ts';
import { syncFailing } from './019-sync-failing.ts';
import { linkEndCause } from './020-link-end-cause.ts';
import { eventChangeFeed } from './021-event-change-feed.ts';
import { autoScheduleRules } from './022-auto-schedule-rules.ts';
import { recentSeries } from './023-recent-series.ts';
import { eventFeedServer } from './024-event-feed-server.ts';
import { syncLeaseOwner } from './025-sync-lease-owner.ts';

/** Every migration, in order. A new one gets the next number and is never edited after release. */
export const MIGRATIONS: readonly Migration[] = [initial, calendarConnections, runtimeCommands, outageAndKeyHash, calendarSeriesAndSelection, providerBotIds, dashboard, meetstreamSurface, providerHandovers, calendarSourceFields, partialBotKeyIndexes, liveKeyFlag, providerHeldConfig, providerFirstSent, providerKeyGenerations, commandWakesOnChange, seriesBookings, chainsWithoutSeriesRow, syncFailing, linkEndCause, eventChangeFeed, autoScheduleRules, recentSeries, eventFeedServer, syncLeaseOwner];
