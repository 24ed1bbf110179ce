import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../lib/clock.ts';
import type { DatabaseHealth } from '../db/database-health.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { ApiKeyAuthenticator } from '../services/access/api-keys.ts';
import type { CalendarEvents } from '../services/calendars/calendar-events.ts';
import type { BotScheduling } from '../services/scheduling/bot-scheduling.ts';
import type { BotQueries } from '../services/scheduling/bot-queries.ts';
import type { BotManagement } from '../services/scheduling/bot-management.ts';
import type { BotStatusReports } from '../services/scheduling/bot-status-reports.ts';
import type { WebhookSecrets } from '../services/webhooks/webhook-secrets.ts';
import type { CalendarConnections } from '../services/calendars/calendar-connections.ts';
import type { CalendarSync } from '../services/calendars/calendar-sync.ts';
import type { AutoSchedule } from '../services/calendars/auto-schedule.ts';
import type { ProviderWebhooks } from '../services/providers/provider-webhooks.ts';
import type { DashboardSessions } from '../services/access/dashboard-sessions.ts';
import type { UpcomingBots } from '../services/scheduling/upcoming-bots.ts';
import type { EndedBots } from '../services/scheduling/ended-bots.ts';
import type { WebhookDeliveryLog } from '../services/webhooks/webhook-delivery-log.ts';
import type { WebhookUrlHealth } from '../services/webhooks/webhook-url-health.ts';
import type { StatusChangeFeed } from '../services/scheduling/status-change-feed.ts';
import type { AdHocBots } from '../services/scheduling/ad-hoc-bots.ts';
import type { RecurringChains } from '../services/scheduling/recurring-chains.ts';

/** What the HTTP layer needs; the composition root (container.ts) provides it. */
export interface AppDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  authenticator: ApiKeyAuthenticator;
  events: CalendarEvents;
  scheduling: BotScheduling;
  botQueries: BotQueries;
  management: BotManagement;
  statusReports: BotStatusReports;
  webhookSecrets: WebhookSecrets;
  /** Calendar connections, sync and auto-schedule (absent: those routes are not registered). */
  calendar?: { connections: CalendarConnections; sync: CalendarSync; autoSchedule: AutoSchedule };
  /** Whether the database is usable now; errors it recognises as an outage become 503s. */
  databaseHealth: DatabaseHealth;
  /** Bot provider status webhooks (absent: the route is not registered). */
  providerWebhooks?: ProviderWebhooks;
  /** POST /bots/create_bot (absent: the MeetStream bot routes are not registered). */
  adHocBots?: AdHocBots;
  /** Chain mode of recurring series (absent: POST /calendar/toggle-recurrence is not registered). */
  chains?: RecurringChains;
  /** Named checks for /readyz; each resolves true when healthy, or says why it is not ready. */
  readinessChecks: Record<string, () => Promise<boolean | { ready: boolean; reason: string }>>;
  /** Dashboard sign-ins; their cookie also authenticates /api/v1 (src/http/session-auth.ts). */
  sessions: DashboardSessions;
  upcomingBots: UpcomingBots;
  endedBots: EndedBots;
  deliveryLog: WebhookDeliveryLog;
  /** How the caller's callback URLs stand (GET /webhooks/urls). */
  webhookUrls: WebhookUrlHealth;
  statusFeed: StatusChangeFeed;
}
