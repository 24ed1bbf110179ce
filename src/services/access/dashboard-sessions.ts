// Dashboard sessions: an API key is exchanged for a random session token that the browser keeps
// in an HttpOnly cookie. Only the token's sha256 is stored. A session is bound to the key it was
// opened with: every request checks that key, so revoking it ends its sessions at once. A session
// ends at the first of two timeouts: its lifetime from sign-in (absolute, DASHBOARD_SESSION_HOURS)
// and a stretch without use (idle, DASHBOARD_SESSION_IDLE_MINUTES).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Schema } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { randomToken } from '../../lib/ids.ts';
import type { ApiKeyAuthenticator, AuthenticatedUser } from './api-keys.ts';

const TOKEN_PREFIX = 'rcs_';
/**
 * Live sessions one API key may hold; a sign-in past it ends the key's oldest. Every sign-in with
 * a valid key writes a row that lives for the session's lifetime, and sign-in is outside the API's
 * rate limit: without a bound, a script holding a key could grow the table without end.
 */
export const SESSIONS_PER_KEY = 50;
/**
 * How stale the stored last use may get before a request writes it again. Writing it on every
 * request would turn each read of the dashboard (a page reads several routes, and reads them again
 * every 30 s) into a write, on SQLite a write lock taken for nothing; once a minute is enough for a
 * timeout counted in minutes. The cost: a session may end up to this much sooner than its idle
 * timeout after its last use, never later (the setting's minimum, 5 minutes, keeps that small).
 */
export const LAST_SEEN_WRITE_AFTER_MS = 60_000;
/** 43 base36 characters: about 222 bits. */
const TOKEN_SHAPE = /^rcs_[0-9a-z]{43}$/;

export interface OpenedSession {
  /** The session token, for the cookie; never stored. */
  token: string;
  csrfToken: string;
  expiresAtMs: number;
  userId: string;
  userName: string;
}

export interface SessionUser extends AuthenticatedUser {
  expiresAtMs: number;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The CSRF token of a session: an HMAC of a fixed label keyed by the session token. The browser
 * page reads it from the sign-in answer and sends it in a header; a page on another site can
 * neither read it nor compute it, and nothing about it is stored (the database holds only the
 * session token's hash, from which it cannot be derived).
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('rollcall-dashboard-csrf').digest('base64url');
}

/** Constant-time check of a presented CSRF token against the session's. */
export function isCsrfTokenValid(sessionToken: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class DashboardSessions {
  readonly #db: Kysely<Schema>;
  readonly #clock: Clock;
  readonly #authenticator: ApiKeyAuthenticator;
  readonly #lifetimeMs: number;
  readonly #idleMs: number;
  readonly #logger: Logger | null;
  /** Whether the last write of a last use failed: the first failure of a run is a warning, the rest debug. */
  #isLastUseWriteFailing = false;

  constructor(deps: { db: Kysely<Schema>; clock: Clock; authenticator: ApiKeyAuthenticator; lifetimeMs: number; idleMs: number; logger?: Logger }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#authenticator = deps.authenticator;
    this.#lifetimeMs = deps.lifetimeMs;
    this.#idleMs = deps.idleMs;
    this.#logger = deps.logger ?? null;
  }

  /** Opens a session for a valid API key; null for an unknown or revoked one. */
  async signIn(apiKey: string): Promise<OpenedSession | null> {
    const user = await this.#authenticator.authenticate(apiKey);
    if (!user) return null;
    const now = this.#clock.now();
    const token = TOKEN_PREFIX + randomToken(43);
    const expiresAtMs = now + this.#lifetimeMs;
    // Expired and idle rows are useless; sign-ins are rare, so this is where they are cleared.
    await this.#db.deleteFrom('dashboard_sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb(eb.fn.coalesce('last_seen_at', 'created_at'), '<=', now - this.#idleMs)]))
      .execute();
    const tokenHash = hashToken(token);
    await this.#db.insertInto('dashboard_sessions')
      .values({ token_hash: tokenHash, user_id: user.userId, api_key_id: user.keyId, created_at: now, expires_at: expiresAtMs })
      .execute();
    await this.#db.deleteFrom('dashboard_sessions')
      .where('api_key_id', '=', user.keyId).where('token_hash', '<>', tokenHash)
      .where('token_hash', 'not in', (eb) => eb.selectFrom('dashboard_sessions').select('token_hash')
        .where('api_key_id', '=', user.keyId).where('token_hash', '<>', tokenHash)
        .orderBy('created_at', 'desc').orderBy('token_hash').limit(SESSIONS_PER_KEY - 1))
      .execute();
    const row = await this.#db.selectFrom('users').select('name').where('id', '=', user.userId).executeTakeFirstOrThrow();
    return { token, csrfToken: csrfTokenFor(token), expiresAtMs, userId: user.userId, userName: row.name };
  }

  /**
   * The user of a live session: neither expired nor idle past its timeout, and its API key not
   * revoked. With `isUse` (the default) the request is a person's use and keeps the session from
   * idling out; the caller says `isUse: false` for whatever a page or the server does on its own
   * (an open live stream and its re-checks, the page's background reads, a refused write), or a
   * tab left open would keep its session alive until its absolute end.
   *
   * Recording the use is best-effort: a failed write (a full disk, a busy SQLite file) is logged
   * and the request goes on. The read it serves has no need of it, and the cost of the lost write
   * is at most a session that ends sooner, as if that use had not been made.
   */
  async authenticate(token: string, options: { isUse?: boolean } = {}): Promise<SessionUser | null> {
    if (!TOKEN_SHAPE.test(token)) return null;
    const hash = hashToken(token);
    const now = this.#clock.now();
    const row = await this.#db.selectFrom('dashboard_sessions as s')
      .innerJoin('api_keys as k', 'k.id', 's.api_key_id')
      .select((eb) => ['s.token_hash', 's.user_id', 's.api_key_id', 's.expires_at', eb.fn.coalesce('s.last_seen_at', 's.created_at').as('seen_at')])
      .where('s.token_hash', '=', hash).where('k.revoked_at', 'is', null).where('s.expires_at', '>', now)
      .where((eb) => eb(eb.fn.coalesce('s.last_seen_at', 's.created_at'), '>', now - this.#idleMs))
      .executeTakeFirst();
    if (!row) return null;
    if (!timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
    if (options.isUse !== false && now - Number(row.seen_at) >= LAST_SEEN_WRITE_AFTER_MS) {
      await this.#recordUse(hash, now);
    }
    return { userId: row.user_id, keyId: row.api_key_id, expiresAtMs: row.expires_at };
  }

  async #recordUse(hash: string, now: number): Promise<void> {
    try {
      // Only forward: a request of another instance, or one that read the row before, may have written a later time.
      await this.#db.updateTable('dashboard_sessions').set({ last_seen_at: now })
        .where('token_hash', '=', hash)
        .where((eb) => eb(eb.fn.coalesce('last_seen_at', 'created_at'), '<', now))
        .execute();
      if (this.#isLastUseWriteFailing) this.#logger?.info('dashboard session last use is recorded again');
      this.#isLastUseWriteFailing = false;
    } catch (error) {
      const line = 'dashboard session last use could not be recorded; the request goes on (the session may idle out sooner)';
      if (this.#isLastUseWriteFailing) this.#logger?.debug({ err: error }, line);
      else this.#logger?.warn({ err: error }, line);
      this.#isLastUseWriteFailing = true;
    }
  }

  /**
   * Who is signed in, for the page's header. Not use: the page asks it on its own (at load, when
   * another tab signs in or out, before opening a refused live stream again).
   */
  async describe(token: string): Promise<{ userName: string; expiresAtMs: number; csrfToken: string } | null> {
    const session = await this.authenticate(token, { isUse: false });
    if (!session) return null;
    const row = await this.#db.selectFrom('users').select('name').where('id', '=', session.userId).executeTakeFirstOrThrow();
    return { userName: row.name, expiresAtMs: session.expiresAtMs, csrfToken: csrfTokenFor(token) };
  }

  /** Ends the session; ending one that does not exist is harmless. */
  async signOut(token: string): Promise<void> {
    if (!TOKEN_SHAPE.test(token)) return;
    await this.#db.deleteFrom('dashboard_sessions').where('token_hash', '=', hashToken(token)).execute();
  }
}
