// Serves the dashboard at /dashboard: one HTML page, its built script and stylesheet (built by
// scripts/build-dashboard.ts into dist/dashboard, read once into memory), and the sign-in session
// endpoints. The page itself calls /api/v1 with the session cookie, like any other client with a
// key. Every answer here carries a Content-Security-Policy that allows only this origin's script
// and stylesheet: no inline script or style, nothing from elsewhere, no framing.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../http/app.ts';
import type { AppDeps } from '../http/deps.ts';
import { ApiError } from '../errors.ts';
import { CSRF_HEADER, isCrossSite, isSecureRequest, sessionCookie, sessionTokenOf } from '../http/session-auth.ts';
import { isCsrfTokenValid } from '../services/access/dashboard-sessions.ts';

/** Where scripts/build-dashboard.ts writes the built page (git-ignored; npm install builds it). */
export const DASHBOARD_BUILD_DIR = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface BuiltAssets {
  html: string;
  files: Map<string, { body: Buffer; contentType: string }>;
}

/** The manifest the build writes: the hashed file names of the entry script and stylesheet. */
interface Manifest {
  script: string;
  stylesheet: string;
}

export function loadBuiltAssets(dir = DASHBOARD_BUILD_DIR): BuiltAssets | null {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return null;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const files = new Map<string, { body: Buffer; contentType: string }>();
  files.set(manifest.script, { body: readFileSync(join(dir, manifest.script)), contentType: 'text/javascript; charset=utf-8' });
  files.set(manifest.stylesheet, { body: readFileSync(join(dir, manifest.stylesheet)), contentType: 'text/css; charset=utf-8' });
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    '<title>Rollcall</title>',
    '<link rel="icon" href="data:,">',
    `<link rel="stylesheet" href="/dashboard/assets/${manifest.stylesheet}">`,
    `<script type="module" src="/dashboard/assets/${manifest.script}"></script>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    '<noscript>The Rollcall dashboard needs JavaScript. The API works without it: see /docs.</noscript>',
    '</body>',
    '</html>',
  ].join('\n');
  return { html, files };
}

const SignInBody = Type.Object({ api_key: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: true });

export function registerDashboard(app: App, deps: AppDeps): void {
  const assets = loadBuiltAssets();
  if (assets === null) deps.logger.warn('The dashboard is not built (dist/dashboard is missing): /dashboard answers 503. Run npm run build');
  const hide = { hide: true } as const;

  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('cross-origin-opener-policy', 'same-origin');
    void reply.header('cross-origin-resource-policy', 'same-origin');
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });

  const page = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (assets === null) {
      return reply.status(503).type('text/plain; charset=utf-8').send('The dashboard is not built. Run "npm run build" (npm install does it too), then restart.');
    }
    return reply.status(200).type('text/html; charset=utf-8').send(assets.html);
  };
  // Every page of the dashboard is the same document; the script routes on the path.
  app.get('/', { schema: hide }, page);
  app.get('/*', { schema: hide }, page);

  app.get('/assets/:file', { schema: hide }, async (request, reply) => {
    const { file } = request.params as { file: string };
    const asset = assets?.files.get(file);
    if (!asset) throw new ApiError('not_found', `No dashboard asset ${file}`);
    // Names carry a hash of the content: a new build has new names.
    return reply.header('cache-control', 'public, max-age=31536000, immutable').type(asset.contentType).send(asset.body);
  });

  app.post('/session', { schema: { ...hide, body: SignInBody } }, async (request, reply) => {
    if (isCrossSite(request)) throw new ApiError('invalid_csrf_token', 'Sign-in is only accepted from the dashboard\'s own page');
    const opened = await deps.sessions.signIn((request.body as { api_key: string }).api_key.trim());
    if (!opened) throw new ApiError('unauthorized', 'API key is unknown or revoked');
    // The session this browser had (another user's, or one the page took for ended) is ended, not
    // left valid beside the new one for the rest of its lifetime.
    const previous = sessionTokenOf(request, isSecureRequest(deps, request));
    if (previous !== undefined) await deps.sessions.signOut(previous);
    request.log.info({ userId: opened.userId }, 'dashboard sign-in');
    void reply.header('set-cookie', sessionCookie(opened.token, { isSecure: isSecureRequest(deps, request) }));
    return { user: { name: opened.userName }, expires_at: new Date(opened.expiresAtMs).toISOString(), csrf_token: opened.csrfToken };
  });

  // Who is signed in. Nobody is an answer, not a failure: every first visit asks, and a 401 here
  // would be logged by the browser as an error on a page that did nothing wrong. /api/v1 still
  // answers 401 without a session.
  app.get('/session', { schema: hide }, async (request) => {
    const token = sessionTokenOf(request, isSecureRequest(deps, request));
    const session = token === undefined ? null : await deps.sessions.describe(token);
    if (!session) return { user: null };
    return { user: { name: session.userName }, expires_at: new Date(session.expiresAtMs).toISOString(), csrf_token: session.csrfToken };
  });

  app.delete('/session', { schema: hide }, async (request, reply) => {
    const token = sessionTokenOf(request, isSecureRequest(deps, request));
    if (token !== undefined) {
      const presented = request.headers[CSRF_HEADER];
      // Signing someone out from another site is a nuisance worth refusing too.
      if (isCrossSite(request) || !isCsrfTokenValid(token, typeof presented === 'string' ? presented : undefined)) {
        throw new ApiError('invalid_csrf_token', `Sign-out must carry the session's ${CSRF_HEADER} header`);
      }
      await deps.sessions.signOut(token);
    }
    void reply.header('set-cookie', sessionCookie(null, { isSecure: isSecureRequest(deps, request) }));
    return { signed_out: true };
  });
}
