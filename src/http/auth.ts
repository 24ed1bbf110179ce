// Authorization: Token <api_key> on every /api/v1 route, except routes that declare their own;
// or, from the dashboard, its session cookie (src/http/session-auth.ts).
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';
import type { App } from './app.ts';
import type { AppDeps } from './deps.ts';
import type { AuthenticatedUser } from '../services/access/api-keys.ts';
import type { RequestOrigin } from '../domain/action-origin.ts';
import { authenticateSession, isSecureRequest, sessionTokenOf } from './session-auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    userId: string;
    /** Id of the API key the request authenticated with; '' on routes with their own auth. */
    apiKeyId: string;
    /** 'dashboard' when the request came with the dashboard's session cookie, 'api' with an API key. */
    origin: RequestOrigin;
  }
  interface FastifyContextConfig {
    /** 'custom': the route authenticates the request itself (the bot runtime status route). */
    auth?: 'custom';
    /** A GET that changes state (MeetStream's remove_bot): a session cookie needs CSRF proof for it too. */
    changesState?: true;
  }
}

// The scheme name is case-insensitive (RFC 9110 section 11.1): "token <key>" is the same header.
const TOKEN_HEADER = /^Token\s+(\S+)\s*$/i;

/** The API's base path: under it the key is checked before the route is looked up. */
export const API_PREFIX = '/api/v1';

export function isApiPath(url: string): boolean {
  // Read as the router reads it: repeated slashes count as one (ignoreDuplicateSlashes).
  const path = url.split('?')[0]!.replace(/\/{2,}/g, '/');
  return path === API_PREFIX || path.startsWith(`${API_PREFIX}/`);
}

export function registerAuth(app: App, deps: AppDeps): void {
  app.decorateRequest('userId', '');
  app.decorateRequest('apiKeyId', '');
  app.decorateRequest('origin', 'api');
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.auth === 'custom') return;
    const user = await authenticateRequest(deps, request);
    request.userId = user.userId;
    request.apiKeyId = user.keyId;
    request.origin = user.origin;
  });
}

/**
 * The user of an API request: its API key, or without an Authorization header the dashboard's
 * session cookie (with CSRF proof for a change). Also asked of a path no route serves, so that a
 * signed-in dashboard is told 404 or 405 there, as a key is, not that its session ended.
 */
export async function authenticateRequest(deps: AppDeps, request: FastifyRequest): Promise<AuthenticatedUser & { origin: RequestOrigin }> {
  const sessionToken = request.headers.authorization === undefined ? sessionTokenOf(request, isSecureRequest(deps, request)) : undefined;
  return sessionToken !== undefined
    ? { ...await authenticateSession(deps, request, sessionToken), origin: 'dashboard' }
    : { ...await authenticateApiKeyUser(deps, request.headers.authorization), origin: 'api' };
}

/** The user the Authorization header's API key belongs to; throws 401 (no key) or 403 (unknown key) otherwise. */
export async function authenticateApiKey(deps: AppDeps, header: string | undefined): Promise<string> {
  return (await authenticateApiKeyUser(deps, header)).userId;
}

/**
 * The user and key id of the Authorization header's API key. MeetStream's convention, which its
 * clients branch on: no usable header is 401, a key that is unknown or revoked is 403.
 */
export async function authenticateApiKeyUser(deps: AppDeps, header: string | undefined): Promise<AuthenticatedUser> {
  if (!header) throw new ApiError('unauthorized', 'Authorization header is missing; send "Authorization: Token <api_key>"');
  const match = TOKEN_HEADER.exec(header);
  if (!match) throw new ApiError('unauthorized', 'Authorization header must be "Token <api_key>"');
  const user = await deps.authenticator.authenticate(match[1]!);
  if (!user) throw new ApiError('forbidden', 'API key is unknown or revoked');
  return user;
}
