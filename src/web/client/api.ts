// The page's one way to the server: /api/v1 with the session cookie (sent by the browser) and,
// on every state-changing request, the session's CSRF token in a header. Errors arrive in the
// API's own shape and are thrown as ApiFailure with its code.
import { ApiFailure, failureText, type ErrorBody } from './api-failure.ts';
import { announceSessionChange } from './session-channel.ts';

export { ApiFailure };

export const BASE = '/dashboard';

export interface Session {
  user: { name: string };
  expires_at: string;
  csrf_token: string;
}


let csrfToken: string | null = null;
let onSignedOut: () => void = () => {};
let onSessionChanged: () => void = () => {};

/** Called when the server says the session is gone (expired, signed out elsewhere, key revoked). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

/**
 * Called when a write was refused for want of this session's CSRF token: the browser's cookie is
 * another session's now (signed in again, maybe as someone else, in another tab). The page reads
 * the session again, so that it shows whose it is.
 */
export function whenSessionChanged(handler: () => void): void {
  onSessionChanged = handler;
}

const SESSION_CHANGED = 'The session changed (signed in again, perhaps in another tab): check the page and try again.';

/**
 * Marks the reads the page makes by itself (every 30 s, after status changes, after the live
 * stream reconnects): the server does not count them as use, so a tab left open still idles out
 * (docs/security.md). Reads a person caused (a page opened, Retry pressed, a list read after a
 * change made) go without it.
 */
const BACKGROUND_HEADER = 'x-rollcall-background';
/** Inside inBackground's call: what it starts is the page's own doing. */
let backgroundCalls = 0;
/** Loads started in the background and not yet settled, with when each started (see readInBackground). */
const backgroundLoads = new Set<{ startedAt: number }>();
/**
 * How long a load started in the background marks the reads made while it is under way. A load
 * that hangs (a connection a proxy holds open) would otherwise mark every read after it, and a
 * person's use would go uncounted for as long as it hangs.
 */
const BACKGROUND_LOAD_MARKS_MS = 10_000;

/** Runs `act` (which starts reads, as a timer or a status change does) as the page's own doing, not a person's. */
export function inBackground(act: () => void): void {
  backgroundCalls++;
  try {
    act();
  } finally {
    backgroundCalls--;
  }
}

/** Whether the caller runs inside inBackground. */
export function isInBackground(): boolean {
  return backgroundCalls > 0;
}

/**
 * Runs a load started in the background with every read it makes marked, those it makes after an
 * await too (a bot's page reads the bot, then its events). A read a person starts while such a
 * load is under way is marked as well: at worst that use goes uncounted, and the session ends
 * sooner, never later.
 */
export async function readInBackground<T>(load: () => Promise<T>): Promise<T> {
  const entry = { startedAt: Date.now() };
  backgroundLoads.add(entry);
  try {
    return await load();
  } finally {
    backgroundLoads.delete(entry);
  }
}

function isBackgroundRead(): boolean {
  if (backgroundCalls > 0) return true;
  const now = Date.now();
  for (const load of backgroundLoads) if (now - load.startedAt < BACKGROUND_LOAD_MARKS_MS) return true;
  return false;
}

async function send<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  if (method === 'GET' && isBackgroundRead()) headers[BACKGROUND_HEADER] = '1';
  let response: Response;
  try {
    response = await fetch(url, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiFailure('The server cannot be reached. Check your connection and try again.', 0, 'network_error');
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: described below
  }
  if (!response.ok) {
    const error = parsed as ErrorBody | null;
    if (response.status === 401 && url.startsWith('/api/')) onSignedOut();
    if (error?.code === 'invalid_csrf_token' && url.startsWith('/api/')) {
      onSessionChanged();
      throw new ApiFailure(SESSION_CHANGED, response.status, error.code);
    }
    throw new ApiFailure(failureText(response.status, error), response.status, error?.code ?? 'http_error', error?.details ?? null);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => send<T>('GET', `/api/v1${path}`),
  post: <T>(path: string, body?: unknown) => send<T>('POST', `/api/v1${path}`, body),
  patch: <T>(path: string, body: unknown) => send<T>('PATCH', `/api/v1${path}`, body),
  delete: <T>(path: string, body?: unknown) => send<T>('DELETE', `/api/v1${path}`, body),
};

/** The browser's session, or null when nobody is signed in (the server answers `{ user: null }`). */
export async function loadSession(): Promise<Session | null> {
  const session = await send<Session | { user: null }>('GET', `${BASE}/session`);
  if (session.user === null) {
    csrfToken = null;
    return null;
  }
  csrfToken = session.csrf_token;
  return session;
}

export async function signIn(apiKey: string): Promise<Session> {
  const session = await send<Session>('POST', `${BASE}/session`, { api_key: apiKey });
  csrfToken = session.csrf_token;
  announceSessionChange();
  return session;
}

/**
 * Ends the browser's session. When the cookie is another session's by now (signed in again in
 * another tab), that one is read and ended: signing out means this browser is signed out. A
 * failure (the server unreachable) is thrown, not taken for a sign-out.
 */
export async function signOut(): Promise<void> {
  try {
    await send('DELETE', `${BASE}/session`);
  } catch (error) {
    if (!(error instanceof ApiFailure) || error.code !== 'invalid_csrf_token') throw error;
    if ((await loadSession()) !== null) await send('DELETE', `${BASE}/session`);
  }
  csrfToken = null;
  announceSessionChange();
}

/** Query string from the set values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
