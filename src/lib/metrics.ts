// Prometheus metrics. One registry per process (per app in tests), created by the container.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type GaugeConfiguration } from 'prom-client';

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

/**
 * A gauge read from the database when /metrics is scraped. While the database cannot answer it has
 * no value (NaN, or no series for a labelled one; never a stale or a zero figure), and the rest of
 * the scrape still answers: the process figures and counters are what an operator reads during an
 * outage.
 */
export function databaseGauge<T extends string>(configuration: Omit<GaugeConfiguration<T>, 'collect'>, isDatabaseAvailable: () => boolean, read: (gauge: Gauge<T>) => Promise<void>): Gauge<T> {
  const isLabelled = (configuration.labelNames ?? []).length > 0;
  return new Gauge<T>({
    ...configuration,
    async collect() {
      const unknown = () => (isLabelled ? this.reset() : this.set(Number.NaN));
      // During a known outage the scrape does not wait for a connection that will not come.
      if (!isDatabaseAvailable()) return unknown();
      try {
        await read(this);
      } catch {
        unknown();
      }
    },
  });
}

/** `countPendingSchedules` is asked only when /metrics is scraped, never on a hot path. */
export function createMetrics(options: { collectDefaults?: boolean; countPendingSchedules?: () => Promise<number>; isDatabaseAvailable?: () => boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.collectDefaults !== false) collectDefaultMetrics({ register: registry, prefix: 'rollcall_' });
  const isDatabaseAvailable = options.isDatabaseAvailable ?? (() => true);
  new Gauge({
    name: 'rollcall_database_up', help: 'Whether the database answers and takes writes (0 from a failed statement until the probe sees it back)', registers: [registry],
    collect() {
      this.set(isDatabaseAvailable() ? 1 : 0);
    },
  });
  return {
    registry,
    httpRequests: new Counter({ name: 'rollcall_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    schedulesPending: databaseGauge({ name: 'rollcall_schedules_pending', help: 'Schedules waiting to fire', registers: [registry] }, isDatabaseAvailable, async (gauge) => {
      if (options.countPendingSchedules) gauge.set(await options.countPendingSchedules());
    }),
    fireLatenessSeconds: new Histogram({
      name: 'rollcall_fire_lateness_seconds',
      help: 'Launch time minus scheduled time',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    launches: new Counter({ name: 'rollcall_launches_total', help: 'Bot launch attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    webhookDeliveries: new Counter({ name: 'rollcall_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    webhookOutboxDepth: new Gauge({ name: 'rollcall_webhook_outbox_depth', help: 'Webhook deliveries not yet delivered', registers: [registry] }),
    loopRestarts: new Counter({ name: 'rollcall_loop_restarts_total', help: 'Background loop failures that led to a restart', labelNames: ['loop'], registers: [registry] }),
  };
}
