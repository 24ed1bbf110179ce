// The dashboard's session cookie as a second way to authenticate /api/v1 requests (the first is
// "Authorization: Token <api_key>"). A cookie is sent by the browser on its own, so every
// state-changing request must also prove it comes from the dashboard's page: the session's CSRF
// token in X-CSRF-Token, compared in constant time (docs/security.md).
import type { FastifyRequest } from 'fastify';
import { parseCookie, stringifySetCookie } from 'cookie';
import { ApiError } from '../errors.ts';
import type { AppDeps } from './deps.ts';
import type { AuthenticatedUser } from '../services/access/api-keys.ts';
import { isCsrfTokenValid } from '../services/access/dashboard-sessions.ts';

/** Over https the cookie gets the __Host- prefix: Secure, Path=/ and no Domain, enforced by the browser. */
export const SECURE_SESSION_COOKIE = '__Host-rollcall_session';
export const SESSION_COOKIE = 'rollcall_session';
export const CSRF_HEADER = 'x-csrf-token';
/**
 * Sent ("1") by the dashboard's page on the reads it makes by itself (every 30 s, after status
 * changes, after the live stream reconnects): those are not a person's use and do not keep the
 * session from idling out. Honoured on GET and HEAD only; it can only keep a request from
 * extending a session, never make one live longer, so it needs no proof of origin.
 */
export const BACKGROUND_HEADER = 'x-rollcall-background';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The session token the request's cookie carries, if any. Over https only the __Host- cookie
 * counts: a cookie without the prefix may have been planted by a sibling subdomain or a plain-http
 * answer (the prefix is what the browser guarantees against that), and would sign the user into
 * someone else's account.
 */
export function sessionTokenOf(request: FastifyRequest, isSecure: boolean): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  return parseCookie(header)[isSecure ? SECURE_SESSION_COOKIE : SESSION_COOKIE];
}

/** Secure when served over https: PUBLIC_URL is https, or this request came over TLS. */
export function isSecureRequest(deps: Pick<AppDeps, 'config'>, request: FastifyRequest): boolean {
  return deps.config.publicUrl.startsWith('https://') || request.protocol === 'https';
}

/**
 * The Set-Cookie value that stores a session token, or (token null) clears it. A stored token has
 * no Max-Age or Expires: it is a session cookie, which the browser drops when it closes, rather
 * than a persistent one kept on disk for the session's lifetime (OWASP Session Management Cheat
 * Sheet, "Expire and Max-Age Attributes"). The server's absolute and idle timeouts end the session
 * whatever the browser keeps.
 */
export function sessionCookie(token: string | null, options: { isSecure: boolean }): string {
  return stringifySetCookie({
    name: options.isSecure ? SECURE_SESSION_COOKIE : SESSION_COOKIE,
    value: token ?? '',
    path: '/',
    httpOnly: true,
    secure: options.isSecure,
    sameSite: 'strict',
    ...(token === null ? { maxAge: 0 } : {}),
  });
}

/**
 * A request from another site is refused whatever it carries. Browsers send Sec-Fetch-Site on
 * every request; it is a second check beside the CSRF token, not a replacement (older browsers and
 * non-browser clients omit it).
 */
export function isCrossSite(request: FastifyRequest): boolean {
  return request.headers['sec-fetch-site'] === 'cross-site';
}

/**
 * Whether a request is a person's use of the session, which keeps it from idling out. Not use: a
 * live stream (opened, and opened again by the browser on its own, for as long as the tab is
 * open), and a read the page marks as its own with BACKGROUND_HEADER.
 */
export function isPersonsUse(request: FastifyRequest): boolean {
  if (acceptsEventStream(request.headers.accept)) return false;
  return !((request.method === 'GET' || request.method === 'HEAD') && request.headers[BACKGROUND_HEADER] === '1');
}

/** True when the client asks for an event stream (EventSource always does). */
export function acceptsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

/**
 * The user of the request's session cookie; throws 401 without a live session, 403 without CSRF
 * proof. The CSRF proof is checked before the session is read (it needs only the token) so that a
 * refused write is not counted as use; a session that ended is still told as 401 first.
 */
export async function authenticateSession(deps: AppDeps, request: FastifyRequest, token: string): Promise<AuthenticatedUser> {
  const needsCsrfProof = !SAFE_METHODS.has(request.method) || request.routeOptions.config?.changesState === true;
  const presented = request.headers[CSRF_HEADER];
  const hasCsrfProof = !needsCsrfProof || (!isCrossSite(request) && isCsrfTokenValid(token, typeof presented === 'string' ? presented : undefined));
  const session = deps.sessions ? await deps.sessions.authenticate(token, { isUse: hasCsrfProof && isPersonsUse(request) }) : null;
  if (!session) throw new ApiError('unauthorized', 'The dashboard session has expired, was signed out, or its API key was revoked; sign in again');
  if (!hasCsrfProof) {
    throw new ApiError('invalid_csrf_token', `A ${request.method} with a session cookie must carry the session's ${CSRF_HEADER} header and come from the dashboard's own pages`);
  }
  return { userId: session.userId, keyId: session.keyId };
}
