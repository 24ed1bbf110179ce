// Authorization: Token <api_key> on every /api/v1 route, except routes that declare their own.
import { ApiError } from '../errors.ts';
import type { App } from './app.ts';
import type { AppDeps } from './deps.ts';

declare module 'fastify' {
  interface FastifyRequest {
    userId: string;
  }
  interface FastifyContextConfig {
    /** 'custom': the route authenticates the request itself (the bot runtime status route). */
    auth?: 'custom';
  }
}

const TOKEN_HEADER = /^Token\s+(\S+)\s*$/;

export function registerAuth(app: App, deps: AppDeps): void {
  app.decorateRequest('userId', '');
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.auth === 'custom') return;
    request.userId = await authenticateApiKey(deps, request.headers.authorization);
  });
}

/** The user the Authorization header's API key belongs to; throws 401 otherwise. */
export async function authenticateApiKey(deps: AppDeps, header: string | undefined): Promise<string> {
  if (!header) throw new ApiError('unauthorized', 'Authorization header is missing; send "Authorization: Token <api_key>"');
  const match = TOKEN_HEADER.exec(header);
  if (!match) throw new ApiError('unauthorized', 'Authorization header must be "Token <api_key>"');
  const user = await deps.authenticator.authenticate(match[1]!);
  if (!user) throw new ApiError('unauthorized', 'API key is unknown or revoked');
  return user.userId;
}
