// The composition root: the one place that chooses adapters and wires services together.
import type { Logger } from 'pino';
import { sql } from 'kysely';
import { redactUrl, type Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { startBackgroundCheckpoints } from './db/sqlite-checkpoints.ts';
import { settledWithin } from './lib/deadline.ts';
import { createdSchema, currentSchemaVersion, latestVersion, migrate } from './db/migrator.ts';
import { buildApp, type App } from './http/app.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { createLogger } from './lib/logger.ts';
import { createMetrics, type Metrics } from './lib/metrics.ts';
import { OutboundGuard, type ResolveHost } from './adapters/outbound-guard.ts';
import { OutboundHttp } from './adapters/outbound-http.ts';
import { noRuntime, type BotRuntime } from './adapters/bot-runtimes/bot-runtime.ts';
import { HttpBotRuntime } from './adapters/bot-runtimes/http-bot-runtime.ts';
import { CommandBotRuntime } from './adapters/bot-runtimes/command-bot-runtime.ts';
import { keyGenerationsInMemory, type ProviderRuntimeOptions } from './adapters/bot-providers/provider-options.ts';
import { RecallBotProvider } from './adapters/bot-providers/recall-bot-provider.ts';
import { MeetStreamBotProvider } from './adapters/bot-providers/meetstream-bot-provider.ts';
import { AttendeeBotProvider } from './adapters/bot-providers/attendee-bot-provider.ts';
import { findProviderBotId } from './store/provider-bot-store.ts';
import { storedKeyGenerations } from './store/provider-key-store.ts';
import { ApiKeyAuthenticator } from './services/access/api-keys.ts';
import { countSealedWebhookSecrets, countUnopenableSecrets, opensNone, sealSecrets } from './services/access/secrets-at-rest.ts';
import { SecretBox } from './lib/secret-box.ts';
import { CalendarEvents, StoredZoneWarnings } from './services/calendars/calendar-events.ts';
import { BotScheduling } from './services/scheduling/bot-scheduling.ts';
import { BotQueries } from './services/scheduling/bot-queries.ts';
import { BotManagement } from './services/scheduling/bot-management.ts';
import { BotStatusReports, ProviderStatusReports } from './services/scheduling/bot-status-reports.ts';
import { ProviderWebhooks } from './services/providers/provider-webhooks.ts';
import { WebhookDelivery } from './services/webhooks/webhook-delivery.ts';
import { WebhookSecrets } from './services/webhooks/webhook-secrets.ts';
import { Dispatcher, type DispatcherOptions } from './scheduler/dispatcher.ts';
import { RuntimeAuthHealth, watchRuntimeAuth } from './adapters/bot-runtimes/runtime-auth-health.ts';
import { BotHandover } from './services/providers/bot-handover.ts';
import { ProviderCommandSender } from './scheduler/provider-command-sender.ts';
import { ScheduleSignal } from './scheduler/schedule-signal.ts';
import { countPendingSchedules } from './store/bot-store.ts';
import { createProviderFactory } from './adapters/calendars/provider-factory.ts';
import { RequestInterrupter } from './lib/request-interrupter.ts';
import { CalendarSync } from './services/calendars/calendar-sync.ts';
import { CalendarConnections } from './services/calendars/calendar-connections.ts';
import { AutoSchedule } from './services/calendars/auto-schedule.ts';
import { DashboardSessions } from './services/access/dashboard-sessions.ts';
import { EndedBots } from './services/scheduling/ended-bots.ts';
import { UpcomingBots } from './services/scheduling/upcoming-bots.ts';
import { WebhookDeliveryLog } from './services/webhooks/webhook-delivery-log.ts';
import { WebhookUrlHealth } from './services/webhooks/webhook-url-health.ts';
import { StatusChangeFeed } from './services/scheduling/status-change-feed.ts';
import { AdHocBots } from './services/scheduling/ad-hoc-bots.ts';
import { RecurringChains } from './services/scheduling/recurring-chains.ts';
import { SilentBots } from './services/scheduling/silent-bots.ts';
import { closeInOrder } from './lib/close-in-order.ts';
import { Gauge } from 'prom-client';
import { ClockSkewMonitor } from './db/clock-skew.ts';
import { LAST_LOOK_BEFORE_JOIN_MS } from './domain/sync-health.ts';

export interface Rollcall {
  config: Config;
  database: Database;
  app: App;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  events: CalendarEvents;
  scheduling: BotScheduling;
  dispatcher: Dispatcher;
  webhooks: WebhookDelivery;
  /** Calendar sync: the background loop and push notification intake (docs/calendar-sync.md). */
  calendarSync: CalendarSync;
  calendarConnections: CalendarConnections;
  autoSchedule: AutoSchedule;
  /** Chain mode of recurring series: books each next occurrence (its loop runs with the dispatcher). */
  chains: RecurringChains;
  silentBots: SilentBots;
  /** Early handover to a bot provider that takes a future join time; null for other runtimes. */
  handover: BotHandover | null;
  /** Seals secrets at rest; null when CREDENTIALS_ENCRYPTION_KEY is not set. */
  secretBox: SecretBox | null;
  /** Starts the background loops this process runs (RUN_MODE). */
  startBackground(): Promise<void>;
  close(): Promise<void>;
}

export interface RollcallOverrides {
  clock?: Clock;
  logger?: Logger;
  database?: Database;
  runtime?: BotRuntime;
  /** Skip Node's default process metrics (tests build many apps in one process). */
  collectDefaultMetrics?: boolean;
  dispatcher?: Partial<Pick<DispatcherOptions, 'lookaheadMs' | 'pollIntervalMs' | 'maxConcurrentLaunches' | 'batchSize' | 'onLaunchAttempt'>>;
  /** Resolves host names for the outbound guard instead of the system resolver (tests). */
  resolveHost?: ResolveHost;
}

export function createRuntime(config: Config, clock: Clock, database: Database | undefined, http: OutboundHttp): BotRuntime {
  if (config.botProvider) {
    const provider = config.botProvider;
    const options: ProviderRuntimeOptions = {
      apiKey: provider.apiKey,
      baseUrl: provider.baseUrl,
      webhookSecret: provider.webhookSecret,
      handoverLeadMs: provider.handoverLeadSeconds * 1000,
      createsPerMinute: provider.createsPerMinute,
      timeoutMs: config.botRuntimeTimeoutMs,
      http,
      now: () => clock.now(),
      resolveProviderBotId: async (botId) => (database ? findProviderBotId(database.db, botId) : null),
      keyGenerations: database ? storedKeyGenerations(database.db, () => clock.now()) : keyGenerationsInMemory(),
    };
    switch (provider.name) {
      case 'recall':
        return new RecallBotProvider(options);
      case 'meetstream':
        return new MeetStreamBotProvider(options);
      case 'attendee':
        return new AttendeeBotProvider(options);
    }
  }
  switch (config.botRuntime) {
    case 'http':
      return new HttpBotRuntime({ url: config.botRuntimeUrl!, secret: config.botRuntimeSecret, timeoutMs: config.botRuntimeTimeoutMs, now: () => clock.now() });
    case 'command':
      return new CommandBotRuntime({ command: config.botRuntimeCommand!, timeoutMs: config.botRuntimeTimeoutMs });
    default:
      return noRuntime;
  }
}

export async function createRollcall(config: Config, overrides: RollcallOverrides = {}): Promise<Rollcall> {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const database = overrides.database ?? (await openDatabase(config.databaseUrl));
  database.health.setLogger(logger);
  const metrics = createMetrics({ collectDefaults: overrides.collectDefaultMetrics ?? true, countPendingSchedules: () => countPendingSchedules(database.db), database: database.health });
  const migrated = await migrate(database.db, database.engine);
  // A typo in DATABASE_URL starts on an empty database as readily as on the right one: say so.
  if (createdSchema(migrated)) logger.warn({ database: redactUrl(config.databaseUrl) }, 'this database was empty: its schema was created now (a first start; otherwise check DATABASE_URL, as no existing bot or event is in it)');
  const { box: secretBox, problem: secretsProblem } = await prepareSecretsAtRest(config, database, logger);
  // The server's own SQLite file is checkpointed off the event loop (a database handed in is the caller's).
  const sqliteFile = overrides.database ? null : database.sqlite?.location() ?? null;
  const checkpoints = sqliteFile ? startBackgroundCheckpoints(database.sqlite!, sqliteFile, logger) : null;

  const guard = new OutboundGuard(config.outboundAllowedHosts, overrides.resolveHost ? { resolveHost: overrides.resolveHost } : {});
  const outbound = new OutboundHttp({ guard });
  const signal = new ScheduleSignal(database, logger);
  // One per instance, shared by what reads stored series, so that a series is reported once to this instance's logger.
  const zoneWarnings = new StoredZoneWarnings(logger);
  const events = new CalendarEvents({ db: database.db, engine: database.engine, clock, signal, zoneWarnings });
  const scheduling = new BotScheduling({ database, clock, events, joinLeadSeconds: config.joinLeadSeconds, guard, signal, isDeduplicationKeyRequired: config.isDeduplicationKeyRequired, defaultBotName: config.botDefaultName, botProvider: config.botProvider?.name ?? null });
  events.setChangeListener(scheduling);
  const chains = new RecurringChains({ database, clock, events, scheduling, signal, logger, metrics });
  const silentBots = new SilentBots({ database, clock, logger, metrics, signal, runtimeName: config.botRuntime });
  const chosenRuntime = overrides.runtime ?? createRuntime(config, clock, database, outbound);
  if (config.botRuntime === 'http' && config.runMode !== 'api' && config.botRuntimeSecret === null && overrides.runtime === undefined) {
    logger.warn('BOT_RUNTIME_SECRET is not set: launches sent to BOT_RUNTIME_URL are not signed, so the runtime cannot tell them from anyone else\'s requests. Set it in the Standard Webhooks form (echo "whsec_$(openssl rand -base64 32)") and check the signature in the runtime with the same string (README, "Bot runtimes").');
  }
  // The default launches nothing: said at every start, so that a deployment that meant a runtime
  // and left BOT_RUNTIME out sees why every due bot fails.
  if (config.botRuntime === 'none' && config.runMode !== 'api' && overrides.runtime === undefined) {
    logger.warn('BOT_RUNTIME is none (the default): no bot is launched, and every due bot fails with no_runtime. Set BOT_RUNTIME to http, command, recall, meetstream or attendee (README, "Bot runtimes").');
  }
  // HOST=0.0.0.0 (or ::) without PUBLIC_URL gives status URLs such as http://0.0.0.0:8080/...,
  // which a runtime or provider on another machine cannot reach: every status report would be lost.
  const calledBack = config.botRuntime === 'http' || config.botProvider !== null;
  if (calledBack && config.runMode !== 'api' && ['0.0.0.0', '[::]'].includes(new URL(config.publicUrl).hostname)) {
    logger.warn({ publicUrl: config.publicUrl }, `PUBLIC_URL is not set and HOST is a wildcard address: the status URL sent to bots (${config.publicUrl}/...) cannot be reached from another machine. Set PUBLIC_URL to the address the bot runtime or provider uses to reach this service.`);
  }
  // Warned, not refused: an idle timeout as long as the lifetime is a way to have none, but one
  // set so by mistake would leave every unused session open until its absolute end unsaid.
  if (config.dashboardSessionIdleMinutes >= config.dashboardSessionHours * 60) {
    logger.warn({ dashboardSessionIdleMinutes: config.dashboardSessionIdleMinutes, dashboardSessionHours: config.dashboardSessionHours }, `DASHBOARD_SESSION_IDLE_MINUTES (${config.dashboardSessionIdleMinutes}) is not shorter than DASHBOARD_SESSION_HOURS (${config.dashboardSessionHours} h): a dashboard session reaches its absolute end before it can idle out, so the idle timeout has no effect. Set it below ${config.dashboardSessionHours * 60} minutes to end unused sessions sooner.`);
  }
  // A bot provider's answers tell whether it accepts the API key (/readyz); its bots are handed
  // over ahead of their join time and kept in step with later edits.
  const isProvider = chosenRuntime.scheduling !== null || chosenRuntime.statusWebhooks !== null;
  const runtimeAuth = new RuntimeAuthHealth();
  const runtime = isProvider ? watchRuntimeAuth(chosenRuntime, runtimeAuth, () => clock.now()) : chosenRuntime;
  const leaseMs = config.dispatchLeaseSeconds * 1000;
  const handover = runtime.scheduling ? new BotHandover({ database, clock, runtime, logger }) : null;
  const observeLaunch = overrides.dispatcher?.onLaunchAttempt;
  const dispatcher = new Dispatcher({
    database, clock, runtime, logger, metrics,
    publicUrl: config.publicUrl,
    leaseMs,
    ...(handover ? { handover, providerCommands: new ProviderCommandSender({ database, clock, runtime, logger, publicUrl: config.publicUrl, leaseMs, requestTimeoutMs: config.botRuntimeTimeoutMs }) } : {}),
    ...overrides.dispatcher,
    // A launch is what a chain waits for: let it book the series' next occurrence at once.
    onLaunchAttempt: (attempt) => {
      observeLaunch?.(attempt);
      chains.wake();
    },
  });
  handover?.setWake(() => dispatcher.wake());
  const webhooks = new WebhookDelivery({ database, clock, logger, metrics, http: outbound, secretBox, timeoutMs: config.webhookTimeoutMs, retryBaseMs: config.webhookRetryBaseMs, disableAfterMs: config.webhookDisableAfterHours * 3_600_000 });
  const runsDispatcher = config.runMode !== 'api';
  // Instances that fire on one PostgreSQL compare their clocks with its server's (clock-skew.ts).
  const clockSkew = runsDispatcher && database.engine === 'postgres' ? new ClockSkewMonitor({ database, clock, logger }) : null;
  if (clockSkew) {
    new Gauge({
      name: 'rollcall_clock_skew_seconds', help: 'This machine\'s clock minus the database server\'s, as last measured (NaN before the first)', registers: [metrics.registry],
      collect() {
        this.set(clockSkew.skewMs === null ? Number.NaN : clockSkew.skewMs / 1000);
      },
    });
  }

  // A stop ends the calendar requests still under way after its grace (CalendarSync.stop).
  const calendarRequests = new RequestInterrupter();
  const calendarProviders = createProviderFactory({
    ...config.calendar,
    timeoutMs: config.calendar.httpTimeoutMs,
    now: () => clock.now(),
    http: outbound,
    signal: () => calendarRequests.signal,
    // Not the user's doing and not mended by the user: the operator must act, so it is an error.
    onClientRefused: ({ provider, connectionId, message }) => logger.error({ provider, calendarId: connectionId }, `calendar OAuth client refused by the token endpoint: ${message}`),
  });
  const calendarSync = new CalendarSync({
    database, clock, logger, metrics, events, providers: calendarProviders, box: secretBox, publicUrl: config.publicUrl, requests: calendarRequests,
    pollIntervalMs: config.calendar.pollIntervalSeconds * 1000,
    pushPollIntervalMs: config.calendar.pushPollIntervalSeconds * 1000,
    horizonMs: config.calendar.syncHorizonDays * 86_400_000,
    pushRenewBeforeMs: config.calendar.pushRenewBeforeSeconds * 1000,
    isPushEnabled: config.calendar.isPushEnabled,
    syncFailingAfterMs: config.calendar.syncFailingAfterSeconds * 1000,
    syncConcurrency: config.calendar.syncConcurrency,
    // A bot at risk is handed to a bot provider only once access is back: one look before its handover, one before its join.
    lastLookLeadsMs: config.botProvider ? [LAST_LOOK_BEFORE_JOIN_MS, LAST_LOOK_BEFORE_JOIN_MS + config.botProvider.handoverLeadSeconds * 1000] : [LAST_LOOK_BEFORE_JOIN_MS],
  });
  const autoSchedule = new AutoSchedule({ database, clock, events, scheduling, guard, horizonMs: config.calendar.syncHorizonDays * 86_400_000, logger });
  calendarSync.setAfterSyncHook(autoSchedule);
  const calendarConnections = new CalendarConnections({
    database, clock, providers: calendarProviders, box: secretBox, isKeyUnusable: secretBox === null && config.credentialsEncryptionKey !== null, guard, sync: calendarSync, events, isPushEnabled: config.calendar.isPushEnabled, logger,
  });

  const authenticator = new ApiKeyAuthenticator(database.db, clock);
  // One poll loop per process behind every live status stream (the dashboard's).
  const statusFeed = new StatusChangeFeed({ db: database.db, logger });
  const app = await buildApp({
    config, clock, logger, metrics, events, scheduling,
    botQueries: new BotQueries({ db: database.db, engine: database.engine }),
    adHocBots: new AdHocBots({ database, clock, guard, signal, botProvider: config.botProvider?.name ?? null, defaultBotName: config.botDefaultName }),
    chains,
    management: new BotManagement({ database, clock, joinLeadSeconds: config.joinLeadSeconds, signal, botProvider: config.botProvider?.name ?? null, zoneWarnings }),
    statusReports: new BotStatusReports({ database, clock, signal }),
    webhookSecrets: new WebhookSecrets({ db: database.db, clock, secretBox }),
    authenticator,
    sessions: new DashboardSessions({ db: database.db, clock, authenticator, lifetimeMs: config.dashboardSessionHours * 3_600_000, idleMs: config.dashboardSessionIdleMinutes * 60_000, logger }),
    upcomingBots: new UpcomingBots({ db: database.db, clock, launchLimitPerMinute: runtime.launchLimitPerMinute ?? runtime.scheduling?.rules.createsPerMinute ?? null }),
    endedBots: new EndedBots({ db: database.db }),
    deliveryLog: new WebhookDeliveryLog({ db: database.db, engine: database.engine, clock, onRedeliver: () => webhooks.wake() }),
    webhookUrls: new WebhookUrlHealth({ db: database.db, engine: database.engine, clock }),
    statusFeed,
    calendar: { connections: calendarConnections, sync: calendarSync, autoSchedule },
    databaseHealth: database.health,
    ...(runtime.statusWebhooks ? { providerWebhooks: new ProviderWebhooks({ runtime, reports: new ProviderStatusReports({ database, clock, signal }), clock, logger }) } : {}),
    readinessChecks: {
      // Reachable and able to write: a known outage (lost connection, full disk) is not ready
      // until the health probe has committed a write again.
      database: async () => database.health.isAvailable && (await settledWithin(checkDatabase(database), READINESS_TIMEOUT_MS, false)),
      // Current, or newer: a newer release migrated the database while this one still runs
      // (a rolling upgrade). It keeps working (docs/operations.md, "Upgrades"), so it stays in
      // service; an older schema (migrations not run) is not ready. Unknown while the database
      // is unreachable, which the database check reports.
      migrations: async () => {
        if (!database.health.isAvailable) return { ready: false, reason: 'not known while the database is unreachable' };
        return (await currentSchemaVersion(database.db)) >= latestVersion();
      },
      ...(runsDispatcher ? { dispatcher: async () => dispatcher.isRunning } : {}),
      // Measured at the start: a key is changed by a restart.
      ...(secretsProblem !== null ? { secrets: async () => ({ ready: false, reason: secretsProblem }) } : {}),
      // The provider refusing the API key refuses every bot: not ready, with its answer as the reason.
      ...(isProvider ? { runtime: async () => (runtimeAuth.problem === null ? true : { ready: false, reason: runtimeAuth.problem }) } : {}),
    },
  });

  let started = false;
  /** Set as close begins: a start still under way (waiting to listen for changes) starts nothing. */
  let isClosing = false;
  return {
    config, database, app, clock, logger, metrics, events, scheduling, dispatcher, webhooks, secretBox, calendarSync, calendarConnections, autoSchedule, chains, handover, silentBots,
    async startBackground() {
      if (started || !runsDispatcher || isClosing) return;
      started = true;
      await signal.listen(() => {
        dispatcher.wake();
        webhooks.wake();
        chains.wake();
      });
      if (isClosing) return;
      dispatcher.start();
      webhooks.start();
      calendarSync.start();
      chains.start();
      silentBots.start();
      clockSkew?.start();
    },
    close: () => {
      isClosing = true;
      // At once, not after the HTTP server and the change feed have stopped: a launch sent while
      // they stop could outlast the stop and be sent again by whoever takes its row over.
      dispatcher.beginStop();
      return closeInOrder([
        { name: 'HTTP server', stop: () => app.close() },
        { name: 'status change feed', stop: () => statusFeed.stop() },
        { name: 'change signal', stop: () => signal.stop() },
        // Together: each finishes or hands back its work (a launch drains, a webhook or a calendar
        // request gets a grace), and a process has seconds to stop.
        [
          { name: 'dispatcher', stop: () => dispatcher.stop() },
          { name: 'webhook delivery', stop: () => webhooks.stop() },
          { name: 'calendar sync', stop: () => calendarSync.stop() },
          { name: 'recurring chains', stop: () => chains.stop() },
          { name: 'silent bots', stop: () => silentBots.stop() },
          { name: 'clock check', stop: async () => clockSkew?.stop() },
        ],
        { name: 'bot runtime client', stop: async () => {
          if (chosenRuntime instanceof HttpBotRuntime) await chosenRuntime.close();
          else await chosenRuntime.close?.();
        } },
        { name: 'outbound HTTP client', stop: () => outbound.close() },
        { name: 'SQLite checkpoints', stop: async () => { await checkpoints?.stop(); } },
        { name: 'database', stop: () => database.close() },
      ]);
    },
  };
}

/** A readiness probe answers within this, whatever the database does. */
const READINESS_TIMEOUT_MS = 2000;

async function checkDatabase(database: Database): Promise<boolean> {
  try {
    await sql`select 1`.execute(database.db);
    return true;
  } catch (error) {
    database.health.observe(error);
    return false;
  }
}

/**
 * With CREDENTIALS_ENCRYPTION_KEY set, seals any webhook secret or calendar feed still in
 * plaintext (a deployment that has just turned the key on). Without it, says loudly that secrets
 * sit in the database as they are, and that users whose secrets were sealed earlier get no signed
 * webhooks.
 */
async function prepareSecretsAtRest(config: Config, database: Database, logger: Logger): Promise<{ box: SecretBox | null; problem: string | null }> {
  const box = SecretBox.fromKeys(config.credentialsEncryptionKey, config.credentialsPreviousKeys);
  if (box) {
    // A changed key without the old one among the previous keys: as loud as a removed key.
    const unopenable = await countUnopenableSecrets(database.db, box);
    if (unopenable.users > 0 || unopenable.calendarConnections > 0) {
      logger.error(unopenable, 'some webhook secrets or calendar credentials are sealed with a key that is not configured (neither CREDENTIALS_ENCRYPTION_KEY nor one of CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS): those users\' webhooks cannot be signed and those calendars cannot sync. Put the key that sealed them in CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS.');
    }
    // None of them opens: the key is wrong for this database (a typo, another deployment's key),
    // and an instance started so would take traffic it cannot serve. A few that do not open (a key
    // dropped too early) leave it in service, with the error above.
    const isWrongKey = opensNone(unopenable);
    // Nor does such a key seal what is still in plaintext: the right key could not open it after.
    const { sealed } = isWrongKey ? { sealed: 0 } : await sealSecrets(database.db, box, 'plaintext');
    if (sealed > 0) logger.info({ values: sealed }, 'sealed webhook secrets and calendar credentials that were stored in plaintext');
    if (box.hasPreviousKeys) logger.warn('CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS is set: values sealed with those keys are still opened. Run `npx rollcall secrets reseal` to move them to the current key, then remove the setting.');
    if (!isWrongKey) return { box, problem: null };
    // Nor is it used while this process runs: what it sealed (a new user's secret, a rotation, a
    // connected calendar) the right key could not open after. Without it, sealed values are
    // refused as with no key at all, and new ones are written as without one.
    return { box: null, problem: `CREDENTIALS_ENCRYPTION_KEY opens none of the ${unopenable.sealed} sealed webhook secrets and calendar credentials: it is not the key that sealed them, and this process uses none` };
  }
  logger.warn('CREDENTIALS_ENCRYPTION_KEY is not set: webhook signing secrets and calendar feed URLs are stored in the database in plaintext, and Google and Microsoft calendars cannot be connected. Set it (openssl rand -base64 32) to encrypt them at rest.');
  const unreadable = await countSealedWebhookSecrets(database.db);
  if (unreadable > 0) logger.error({ users: unreadable }, 'some webhook secrets are sealed but CREDENTIALS_ENCRYPTION_KEY is not set: their webhooks cannot be signed');
  return { box: null, problem: unreadable > 0 ? `CREDENTIALS_ENCRYPTION_KEY is not set, and ${unreadable} webhook secrets are sealed with one` : null };
}
