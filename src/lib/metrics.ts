// Prometheus metrics. One registry per process (per app in tests), created by the container.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type GaugeConfiguration } from 'prom-client';
import { settledWithin } from './deadline.ts';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  schedulesPending: Gauge;
  fireLatenessSeconds: Histogram;
  launches: Counter<'outcome'>;
  webhookDeliveries: Counter<'outcome'>;
  webhookOutboxDepth: Gauge;
  loopRestarts: Counter<'loop'>;
}

/** What a gauge read from the database needs to know of it (DatabaseHealth). */
export interface DatabaseAvailability {
  readonly isAvailable: boolean;
  /** Takes note of a failed statement; true when it was the database's (an outage). */
  observe(error: unknown): boolean;
}

/** How long a scrape waits for a figure from the database. */
const DATABASE_READ_TIMEOUT_MS = 2000;

/**
 * A gauge read from the database when /metrics is scraped. While the database cannot answer it has
 * no value (NaN, or no series for a labelled one; never a stale or a zero figure), and the rest of
 * the scrape still answers: the process figures and counters are what an operator reads during an
 * outage. A read that fails tells the database's health (so that an outage nothing else has met
 * yet shows in rollcall_database_up), and one that takes too long is given up.
 */
export function databaseGauge<T extends string>(configuration: Omit<GaugeConfiguration<T>, 'collect'>, database: DatabaseAvailability, read: (gauge: Gauge<T>) => Promise<void>): Gauge<T> {
  const isLabelled = (configuration.labelNames ?? []).length > 0;
  return new Gauge<T>({
    ...configuration,
    async collect() {
      // During a known outage the scrape does not wait for a connection that will not come.
      const isRead = database.isAvailable && await settledWithin(read(this).then(() => true, (error: unknown) => {
        database.observe(error);
        return false;
      }), DATABASE_READ_TIMEOUT_MS, false);
      if (!isRead) {
        if (isLabelled) this.reset();
        else this.set(Number.NaN);
      }
    },
  });
}

/** `countPendingSchedules` is asked only when /metrics is scraped, never on a hot path. */
export function createMetrics(options: { collectDefaults?: boolean; countPendingSchedules?: () => Promise<number>; database?: DatabaseAvailability } = {}): Metrics {
  const registry = new Registry();
  if (options.collectDefaults !== false) collectDefaultMetrics({ register: registry, prefix: 'rollcall_' });
  const database = options.database ?? { isAvailable: true, observe: () => false };
  const schedulesPending = databaseGauge({ name: 'rollcall_schedules_pending', help: 'Schedules waiting to fire', registers: [registry] }, database, async (gauge) => {
    if (options.countPendingSchedules) gauge.set(await options.countPendingSchedules());
  });
  // As the database's health stands when scraped (the gauges are collected together, so a read
  // that fails in this scrape shows here at the next one).
  new Gauge({
    name: 'rollcall_database_up', help: 'Whether the database answers and takes writes (0 from a failed statement until the probe sees it back)', registers: [registry],
    collect() {
      this.set(database.isAvailable ? 1 : 0);
    },
  });
  return {
    registry,
    httpRequests: new Counter({ name: 'rollcall_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    schedulesPending,
    fireLatenessSeconds: new Histogram({
      name: 'rollcall_fire_lateness_seconds',
      help: 'Launch time minus scheduled time',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    launches: new Counter({ name: 'rollcall_launches_total', help: 'Bot launch attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    webhookDeliveries: new Counter({ name: 'rollcall_webhook_deliveries_total', help: 'Webhook delivery attempts by their answer\'s outcome, messages given up unsent (gone, disabled, expired), and attempts whose claim was lost counted once more as claim_lost', labelNames: ['outcome'], registers: [registry] }),
    webhookOutboxDepth: new Gauge({ name: 'rollcall_webhook_outbox_depth', help: 'Webhook deliveries not yet delivered', registers: [registry] }),
    loopRestarts: new Counter({ name: 'rollcall_loop_restarts_total', help: 'Background loop failures that led to a restart', labelNames: ['loop'], registers: [registry] }),
  };
}
