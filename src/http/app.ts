// Builds the HTTP application from its dependencies. No I/O happens here beyond what the
// dependencies do; tests build it with a real database and call it with inject().
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyError, type FastifyReply, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError, errorBody, type ErrorCode } from '../errors.ts';
import { ERROR_CODE_KEYWORD, validationErrorToApiError, validatorCompiler } from './validation.ts';
import { API_PREFIX, authenticateRequest, isApiPath, registerAuth } from './auth.ts';
import { unservedRouteReason } from './unserved-routes.ts';
import { BODY_OPTIONAL_KEYWORD, ErrorResponse } from './schemas/common.ts';
import { registerRateLimit } from './rate-limit.ts';
import type { AppDeps } from './deps.ts';
import { isStatementGivenUp } from '../db/database-health.ts';
import { registerEventRoutes } from './routes/event-routes.ts';
import { registerOperationsRoutes } from './routes/operations-routes.ts';
import { registerScheduleRoutes } from './routes/schedule-routes.ts';
import { registerBotRoutes } from './routes/bot-routes.ts';
import { registerCalendarConnectionRoutes } from './routes/calendar-connection-routes.ts';
import { registerScheduledBotRoutes } from './routes/scheduled-bot-routes.ts';
import { registerProviderWebhookRoutes } from './routes/provider-webhook-routes.ts';
import { registerBotActivityRoutes } from './routes/bot-activity-routes.ts';
import { registerWebhookDeliveryRoutes } from './routes/webhook-delivery-routes.ts';
import { registerDashboard } from '../web/dashboard-plugin.ts';
import { registerAdHocBotRoutes } from './routes/ad-hoc-bot-routes.ts';
import { RouteMethods } from './route-methods.ts';
import { closeConnectionsOnStop } from './stop-connections.ts';
import { REQUEST_TIMEOUT_CHECK_MS, REQUEST_TIMEOUT_MS, answerClientError } from './client-errors.ts';
import { boundFieldName, fieldAtByte, firstInvalidUtf8Byte } from './body-encoding.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Longest path parameter the router accepts; every id the API issues is far shorter. */
const MAX_PARAM_LENGTH = 512;

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export async function buildApp(deps: AppDeps): Promise<App> {
  // Ids in paths are opaque; a trailing slash should not turn a route into a 404.
  const routerOptions = { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: MAX_PARAM_LENGTH };
  const routeMethods = new RouteMethods(routerOptions);
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions,
    return503OnClosing: true,
    // Behind a TLS-terminating proxy: X-Forwarded-Proto from the proxies named here makes the
    // request https (the dashboard's cookie then Secure and __Host-); none is believed by default.
    trustProxy: deps.config.trustProxy,
    // Given to Node's server as it is made too: Fastify sets it on the server afterwards, which
    // Node no longer reads (its checks are set up at construction).
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: REQUEST_TIMEOUT_CHECK_MS },
    clientErrorHandler: answerClientError,
    // Repeated slashes in the path are one, as the router reads them (ignoreDuplicateSlashes), and
    // now for every handler too: a route that redirects relative to the path it was asked for
    // (the API reference's /docs) would otherwise answer "//docs/", which a browser reads as
    // another host.
    rewriteUrl: (request) => collapseSlashes(request.url ?? '/'),
    // Fastify answers a malformed percent-escape or an over-long path parameter before routing,
    // outside the error handler and in its own shape (the latter as a 414); answer in ours.
    frameworkErrors: (error, _request, reply) => {
      const apiError = error.code === 'FST_ERR_BAD_URL'
        ? new ApiError('validation_error', 'path: is not a valid URL (malformed percent-encoding)', { details: { location: 'path' } })
        : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ApiError('validation_error', `path: a path parameter is longer than ${MAX_PARAM_LENGTH} characters`, { details: { location: 'path' } })
          : new ApiError('internal_error', 'Internal error');
      if (apiError.status >= 500) reply.log.error({ err: error }, 'request failed before routing');
      void (reply as FastifyReply).status(apiError.status).send(errorBody(apiError));
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  // Before any route, the documentation's included (see RouteMethods).
  app.addHook('onRoute', (route) => routeMethods.add(route.method, route.url));
  // A stop is not held by a connection that sent no request, or by one whose request it answered.
  closeConnectionsOnStop(app);
  // Clients built for MeetStream often send one header set, Content-Type: application/json
  // included, with every request, also those that carry no body (a DELETE, a POST that takes
  // none). An empty body under that type is no body, as if none had been sent, not a JSON syntax
  // error; the default parser (Fastify's, with its prototype-poisoning checks) reads the rest.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, bytes, done) => {
    // Read as bytes first: text in another encoding is refused, not stored with U+FFFD in it.
    const badByte = firstInvalidUtf8Byte(bytes as Buffer);
    if (badByte >= 0) {
      const field = boundFieldName(fieldAtByte(bytes as Buffer, badByte) ?? 'body');
      return done(new ApiError('invalid_json', `${field}: is not valid UTF-8 (byte ${badByte} of the body); JSON is sent as UTF-8`, { details: { field, location: 'body', byte: badByte } }), undefined);
    }
    const body = (bytes as Buffer).toString('utf8');
    // trim() copies the body: only a body that starts with white space can be all of it.
    if (body.length === 0 || (body.charCodeAt(0) <= 32 && body.trim() === '')) return done(null, undefined);
    return parseJson(request, body, (error, value) => {
      // The parser refuses a `__proto__` or `constructor.prototype` key (prototype poisoning) with
      // the same words as a syntax error. Valid JSON refused for such a key is told so.
      const field = error ? prototypeKeyOf(body) : null;
      if (field !== null) {
        return done(new ApiError('validation_error', 'body: a "__proto__" key, or "prototype" inside "constructor", is not accepted anywhere in a body', { details: { field } }), undefined);
      }
      done(error ?? null, value);
    });
  });

  // Fastify reads text/plain bodies as strings by default; the API takes JSON only, so such a body
  // is a 415 like any other type (a JSON text sent as text/plain included), not a schema error.
  // An empty one is no body: fetch() labels an empty string body text/plain (a POST that takes
  // none, such as /calendar/auto-schedule/disable).
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    return done(new ApiError('unsupported_media_type', 'Body must be application/json'), undefined);
  });
  // Any other type (and a body sent without one): an empty body is no body here too. curl's -d ''
  // (form-encoded, length 0) is the usual way to POST to a route that takes none (MeetStream's
  // disconnect, auto-schedule/disable). Anything more is a 415 before it is read; the error
  // handler reads and drops the upload so that the client sees the answer.
  app.addContentTypeParser('*', (request, _payload, done) => {
    if (request.headers['content-length'] === '0') return done(null, undefined);
    return done(new ApiError('unsupported_media_type', 'Body must be application/json'), undefined);
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setSchemaErrorFormatter((errors, dataVar) => validationErrorToApiError(errors as never, dataVar));
  app.setErrorHandler(async (error: FastifyError | ApiError, request, reply) => {
    // An outage (lost connection, restarting server, full disk) is not a bug: a 503 the client
    // can retry, logged in one line without a stack (the health monitor logs the outage itself).
    // One statement the server gave up on (its statement_timeout, lock_timeout): a 503 to retry,
    // but no outage: the instance stays ready.
    const isGivenUp = !(error instanceof ApiError) && isStatementGivenUp(error);
    const isOutage = !isGivenUp && !(error instanceof ApiError) && deps.databaseHealth.observe(error);
    const apiError = isOutage
      ? new ApiError('database_unavailable', 'The database is unavailable right now; nothing was changed. Try again shortly.')
      : isGivenUp ? new ApiError('database_busy', 'The database gave up on this request at one of its time limits; nothing was changed. Try again shortly.') : toApiError(error);
    if (isOutage || isGivenUp) request.log.warn({ cause: (error as Error).message }, isOutage ? 'request failed: database unavailable' : 'request failed: the database gave up on a statement');
    // A sync put off to the end of a provider's Retry-After is no fault of this service's.
    else if (apiError.status >= 500 && apiError.code !== 'calendar_sync_deferred') request.log.error({ err: error }, 'request failed');
    // The wait is a header too (RFC 9110 section 10.2.3), for clients that read only that.
    if ((apiError.code === 'rate_limited' || apiError.code === 'calendar_provider_unavailable' || apiError.code === 'calendar_sync_deferred') && apiError.details?.retry_after_seconds !== undefined) {
      void reply.header('retry-after', String(apiError.details.retry_after_seconds));
    }
    // A 401 names the scheme it wants (RFC 9110 section 11.6.1). Routes with their own
    // credentials (a runtime's status token, a provider's signature) are left to say their own.
    if (apiError.status === 401 && request.routeOptions.config?.auth !== 'custom') void reply.header('www-authenticate', 'Token');
    // Refused before its body was read (too large, wrong type): Fastify closes the
    // connection after answering. Closing with upload bytes still arriving resets the connection,
    // and the client sees the reset instead of the answer. Reading (and dropping) the rest of the
    // upload first, up to a bound, lets the client read the 413.
    // (A body already read to its end, refused by its parser, has nothing left to drain.)
    if ((apiError.code === 'payload_too_large' || apiError.code === 'unsupported_media_type') && !request.raw.complete && !request.raw.readableEnded) {
      await drainUpload(request.raw, UPLOAD_DRAIN_LIMIT_BYTES, UPLOAD_DRAIN_TIMEOUT_MS);
    }
    return reply.status(apiError.status).send(errorBody(apiError));
  });
  // Two things no client needs and the code behind would choke on. PostgreSQL text cannot hold
  // U+0000: a NUL in a path, query or body was a 500 there and stored on SQLite. A body nested
  // deeper than any real document (JSON.parse takes 100,000 levels in 1 MiB) overflowed the stack
  // of whatever serialises it again (a bot_config stored as JSON). Both are 400s naming the field,
  // with the code the field's schema gives its errors, before validation.
  app.addHook('preValidation', async (request) => {
    const schemas = request.routeOptions.schema ?? {};
    for (const [part, value, schema] of [['path', request.params, schemas.params], ['query', request.query, schemas.querystring], ['body', request.body, schemas.body]] as const) {
      const problem = findUnacceptableValue(value);
      if (problem === null) continue;
      const field = problem.path.length === 0 ? part : problem.path.length > 6 ? `${problem.path.slice(0, 6).join('.')}...` : problem.path.join('.');
      const what = problem.kind === 'nul' ? 'must not contain NUL (U+0000) characters' : `is nested deeper than ${MAX_JSON_DEPTH} levels`;
      throw new ApiError(errorCodeAt(schema, problem.path), `${field}${part === 'body' ? '' : ` (${part})`}: ${what}`, { details: { field, location: part } });
    }
  });
  const servesApi = deps.config.runMode !== 'dispatcher';
  app.setNotFoundHandler(async (request, reply) => {
    // Under the API the key is checked before the route: an unknown path without a valid key is
    // answered like any other route (401 or 403), so a caller without a key learns no route names.
    const path = request.url.split('?')[0]!;
    const { methods, routes } = routeMethods.allowed(path);
    if (servesApi && (isApiPath(request.url) || routes.some(isApiPath))) await authenticateRequest(deps, request);
    // Read as the router reads paths: repeated slashes count as one.
    const unserved = servesApi && isApiPath(path) ? unservedRouteReason(path.replace(/\/{2,}/g, '/').slice(API_PREFIX.length)) : null;
    if (unserved !== null) {
      const error = new ApiError('route_not_served', `${request.method} ${path} is a MeetStream route Rollcall does not serve: ${unserved}`);
      return reply.status(501).send(errorBody(error));
    }
    if (methods.length > 0) {
      const error = new ApiError('method_not_allowed', `${request.method} is not a method of ${path}; it takes ${methods.join(', ')}`);
      return reply.status(405).header('allow', methods.join(', ')).send(errorBody(error));
    }
    const error = new ApiError('not_found', `No route ${request.method} ${path}`);
    return reply.status(404).send(errorBody(error));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rollcall API',
        version: '1',
        description: 'Schedules meeting bots into calendar meetings on time, exactly once. Compatible with MeetStream\'s calendar API.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Token <api_key>' } },
      },
      security: [{ apiKey: [] }],
    },
    transformObject: ({ ...documents }) => {
      const document = 'openapiObject' in documents ? documents.openapiObject : documents.swaggerObject;
      for (const pathItem of Object.values(document.paths ?? {})) {
        for (const operation of Object.values(pathItem ?? {}) as Record<string, unknown>[]) {
          if (operation === null || typeof operation !== 'object' || operation[BODY_OPTIONAL_KEYWORD] !== true) continue;
          delete operation[BODY_OPTIONAL_KEYWORD];
          const requestBody = operation.requestBody as { required?: boolean } | undefined;
          if (requestBody !== undefined) requestBody.required = false;
        }
      }
      return document;
    },
  });
  // Its pages load their own script, style and images, and nothing from elsewhere; no inline
  // script (its csp.json lists none), but Swagger UI sets a style inline as it draws. Every other
  // answer outside the dashboard gets a policy that runs nothing (below).
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  });

  // Any route that takes a body can answer 413 (over 1 MiB) and 415 (not JSON), and every route
  // under the API key can answer 429 (the per-key rate limit, src/http/rate-limit.ts).
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { body?: unknown; response?: Record<string | number, unknown> } | undefined;
    if (schema?.body && schema.response) {
      schema.response[413] ??= ErrorResponse;
      schema.response[415] ??= ErrorResponse;
    }
    const isKeyed = isApiPath(route.url) && (route.config as { auth?: string } | undefined)?.auth !== 'custom';
    if (schema?.response && isKeyed) schema.response[429] ??= ErrorResponse;
  });
  // An answer sent before the body has arrived (a 401 from the key check) ends the connection: the
  // rest of that body is of no use, and a kept-alive socket would take the request time limit's
  // 408 after the answer already sent. (A 413 or 415 reads the upload to its end first, in the
  // error handler, so that the client sees the answer rather than a reset.)
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) void reply.header('connection', 'close');
    // Every answer is read as the type it names, never sniffed: the API shares its origin with the
    // dashboard, and a few answers echo what the caller sent (Graph's validationToken, as text).
    void reply.header('x-content-type-options', 'nosniff');
    // An answer that is not the dashboard's is data, never a document: a browser that opens one
    // (a link to the echo above, an error page) runs nothing in it and no other site frames it
    // (OWASP REST Security Cheat Sheet, security headers). The dashboard and the API reference
    // (/docs) set policies of their own, after this one.
    if (!reply.hasHeader('content-security-policy')) {
      void reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      void reply.header('x-frame-options', 'DENY');
    }
  });
  registerOperationsRoutes(app, deps);
  // A dispatcher-only instance answers health and metrics, not the API.
  if (deps.config.runMode === 'dispatcher') return app;
  await app.register(async (api) => {
    registerAuth(api, deps);
    // Answers under a key or a session are the caller's own (webhook secrets among them): no
    // shared or browser cache keeps them (OWASP session management: Cache-Control no-store).
    api.addHook('onSend', async (_request, reply) => {
      if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    });
    // After auth, so that it can key on the API key; before any route's body parsing and work.
    registerRateLimit(api, { perMinute: deps.config.rateLimitPerMinute, clock: deps.clock });
    registerEventRoutes(api, deps);
    registerScheduleRoutes(api, deps);
    registerBotRoutes(api, deps);
    registerCalendarConnectionRoutes(api, deps);
    registerScheduledBotRoutes(api, deps);
    registerProviderWebhookRoutes(api, deps);
    registerBotActivityRoutes(api, deps);
    registerWebhookDeliveryRoutes(api, deps);
    registerAdHocBotRoutes(api, deps);
  }, { prefix: API_PREFIX });
  await app.register(async (web) => registerDashboard(web, deps), { prefix: '/dashboard' });

  return app;
}

function toApiError(error: FastifyError | ApiError): ApiError {
  if (error instanceof ApiError) return error;
  if (error.validation) return validationErrorToApiError(error.validation as never, error.validationContext ?? 'body');
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload_too_large', `Body is larger than ${BODY_LIMIT_BYTES} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type', 'Body must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('invalid_json', `body: ${error.message}`);
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new ApiError('invalid_json', `body: ${error.message}`);
  }
  if (error.statusCode === 413) return new ApiError('payload_too_large', `Body is larger than ${BODY_LIMIT_BYTES} bytes`);
  if (error.statusCode === 415) return new ApiError('unsupported_media_type', 'Body must be application/json');
  if (error.statusCode === 404) return new ApiError('not_found', error.message);
  if (error.statusCode === 405) return new ApiError('method_not_allowed', error.message);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiError('validation_error', error.message);
  }
  return new ApiError('internal_error', 'Internal error');
}

/** How much of a refused upload is read and dropped so that its sender sees the answer. */
const UPLOAD_DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
const UPLOAD_DRAIN_TIMEOUT_MS = 10_000;

/** Reads and drops the rest of a request body, until it ends or `maxBytes` or `timeoutMs` pass. */
function drainUpload(stream: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    const finish = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', finish);
      stream.off('error', finish);
      stream.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    stream.on('data', onData);
    stream.once('end', finish);
    stream.once('error', finish);
    stream.once('close', finish);
    stream.resume();
  });
}

/** Deeper than any document a client has reason to send; bot_config needs 5. */
export const MAX_JSON_DEPTH = 64;

/**
 * The first string (value or property name) holding U+0000, or the first value nested deeper than
 * MAX_JSON_DEPTH, with its path; null when there is neither. Iterative, and each node keeps only a
 * link to its parent (the path is built once, when found): a 1 MiB body can nest 100,000 levels.
 */
export function findUnacceptableValue(value: unknown): { kind: 'nul' | 'depth'; path: string[] } | null {
  type Node = { value: unknown; key: string; depth: number; parent: Node | null };
  const pathOf = (node: Node): string[] => {
    const path: string[] = [];
    for (let n: Node | null = node; n !== null && n.parent !== null; n = n.parent) path.push(n.key);
    return path.reverse();
  };
  const stack: Node[] = [{ value, key: '', depth: 0, parent: null }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node.value === 'string') {
      if (node.value.includes('\u0000')) return { kind: 'nul', path: pathOf(node) };
    } else if (node.value !== null && typeof node.value === 'object') {
      if (node.depth >= MAX_JSON_DEPTH) return { kind: 'depth', path: pathOf(node) };
      for (const [key, child] of Object.entries(node.value)) {
        if (key.includes('\u0000')) return { kind: 'nul', path: pathOf(node) };
        stack.push({ value: child, key, depth: node.depth + 1, parent: node });
      }
    }
  }
  return null;
}

/** The error code the schema gives the field at `segments` (or its nearest ancestor that has one). */
function errorCodeAt(schema: unknown, segments: string[]): ErrorCode {
  let node = schema as Record<string, any> | undefined;
  let code = node?.[ERROR_CODE_KEYWORD] as ErrorCode | undefined;
  for (const segment of segments) {
    const options: Record<string, any>[] = node ? [node, ...(node.anyOf ?? []), ...(node.oneOf ?? [])] : [];
    node = undefined;
    for (const option of options) {
      const next = option.properties?.[segment] ?? (typeof option.additionalProperties === 'object' ? option.additionalProperties : undefined) ?? option.items;
      if (next) {
        node = next;
        break;
      }
    }
    if (!node) break;
    code = (node[ERROR_CODE_KEYWORD] as ErrorCode | undefined) ?? code;
  }
  return code ?? 'validation_error';
}

/**
 * The key that could poison a prototype in a body the JSON parser refused, when the body is valid
 * JSON with one: `__proto__` anywhere, or `constructor` holding `prototype`, however written (JSON
 * reads "\u005f_proto__" as "__proto__"); null for a body refused as bad JSON. (The parser says
 * only that the body is not valid JSON.)
 */
function prototypeKeyOf(body: string): '__proto__' | 'constructor' | null {
  let parsed: unknown;
  try {
    // JSON.parse makes "__proto__" an own key; it does not set the prototype.
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const stack: unknown[] = [parsed];
  let found: 'constructor' | null = null;
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Object.hasOwn(value, '__proto__')) return '__proto__';
    const ctor = (value as Record<string, unknown>).constructor;
    if (Object.hasOwn(value, 'constructor') && ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) found = 'constructor';
    stack.push(...Object.values(value));
  }
  return found;
}

/** `url` with each run of slashes in its path written as one; the query is left as it is. */
export function collapseSlashes(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const collapsed = path.replace(/\/{2,}/g, '/');
  return collapsed === path ? url : collapsed + (queryAt < 0 ? '' : url.slice(queryAt));
}
