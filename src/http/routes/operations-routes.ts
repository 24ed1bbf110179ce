// Health, readiness, metrics and the OpenAPI document. None of these need an API key.
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';

export function registerOperationsRoutes(app: App, deps: AppDeps): void {
  const hide = { hide: true } as const;
  app.get('/healthz', { schema: hide }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: hide }, async (_request, reply) => {
    const checks: Record<string, boolean> = {};
    const reasons: Record<string, string> = {};
    for (const [name, check] of Object.entries(deps.readinessChecks)) {
      const result = await check().catch(() => false);
      checks[name] = typeof result === 'boolean' ? result : result.ready;
      if (typeof result !== 'boolean' && !result.ready) reasons[name] = result.reason;
    }
    const ready = Object.values(checks).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks, ...(Object.keys(reasons).length > 0 ? { reasons } : {}) });
  });

  app.get('/metrics', { schema: hide }, async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(body);
  });

  app.get('/openapi.json', { schema: hide }, async () => app.swagger());

  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) });
  });
}
