// The composition root: the one place that chooses adapters and wires services together.
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { currentSchemaVersion, latestVersion, migrate } from './db/migrator.ts';
import { buildApp, type App } from './http/app.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { createLogger } from './lib/logger.ts';
import { createMetrics, type Metrics } from './lib/metrics.ts';
import { OutboundGuard } from './adapters/outbound-guard.ts';
import { ApiKeyAuthenticator } from './services/api-keys.ts';
import { CalendarEvents } from './services/calendar-events.ts';
import { BotScheduling } from './services/bot-scheduling.ts';
import { quietSignal } from './services/bot-lifecycle.ts';

export interface Rollcall {
  config: Config;
  database: Database;
  app: App;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  events: CalendarEvents;
  scheduling: BotScheduling;
  close(): Promise<void>;
}

export interface RollcallOverrides {
  clock?: Clock;
  logger?: Logger;
  database?: Database;
  /** Skip Node's default process metrics (tests build many apps in one process). */
  collectDefaultMetrics?: boolean;
}

export async function createRollcall(config: Config, overrides: RollcallOverrides = {}): Promise<Rollcall> {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics({ collectDefaults: overrides.collectDefaultMetrics ?? true });
  const database = overrides.database ?? (await openDatabase(config.databaseUrl));
  await migrate(database.db, database.engine);

  const guard = new OutboundGuard(config.outboundAllowedHosts);
  const events = new CalendarEvents({ db: database.db, clock });
  const scheduling = new BotScheduling({ database, clock, events, joinLeadSeconds: config.joinLeadSeconds, guard, signal: quietSignal });
  events.setChangeListener(scheduling);

  const app = await buildApp({
    config, clock, logger, metrics, events, scheduling,
    authenticator: new ApiKeyAuthenticator(database.db, clock),
    readinessChecks: {
      database: async () => (await currentSchemaVersion(database.db)) >= 0,
      migrations: async () => (await currentSchemaVersion(database.db)) === latestVersion(),
    },
  });

  return {
    config, database, app, clock, logger, metrics, events, scheduling,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
