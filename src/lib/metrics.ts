// Prometheus metrics. One registry per process (per app in tests), created by the container.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

/** `countPendingSchedules` is asked only when /metrics is scraped, never on a hot path. */
export function createMetrics(options: { collectDefaults?: boolean; countPendingSchedules?: () => Promise<number> } = {}): Metrics {
  const registry = new Registry();
  if (options.collectDefaults !== false) collectDefaultMetrics({ register: registry, prefix: 'rollcall_' });
  return {
    registry,
    httpRequests: new Counter({ name: 'rollcall_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    schedulesPending: new Gauge({
      name: 'rollcall_schedules_pending',
      help: 'Schedules waiting to fire',
      registers: [registry],
      async collect() {
        if (options.countPendingSchedules) this.set(await options.countPendingSchedules());
      },
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
