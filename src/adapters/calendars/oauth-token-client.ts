// OAuth 2.0 refresh-token grant (RFC 6749 section 6) for Google and the Microsoft identity
// platform, and a small cache of the access token it yields. Kept apart from storage: a rotated
// refresh token (Microsoft may send a new one with every refresh) is handed to a callback, and the
// caller decides where it is kept.
import { CalendarProviderError, type ProviderFailure } from './calendar-provider.ts';
import { DEFAULT_RATE_LIMIT_WAIT_MS, isSuccess, parseRetryAfterMs, type HttpSend } from './provider-http.ts';

export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export interface RefreshedToken {
  accessToken: string;
  expiresAtMs: number;
  /** A new refresh token when the provider rotated it; null when the old one stays valid. */
  refreshToken: string | null;
}

/** An OAuth error code's shape (RFC 6749 section 5.2: printable ASCII, no quote or backslash); anything else is not kept. */
const OAUTH_ERROR_CODE = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

/** Errors of the token endpoint that say "try again" (RFC 6749 section 4.1.2.1; Microsoft's identity platform error table). */
const RETRY_ERRORS = new Set(['server_error', 'temporarily_unavailable']);

/**
 * Errors of the token endpoint that mean "these credentials will not work again". Microsoft's
 * unauthorized_client is among them: its error reference gives as causes an app not registered,
 * or not added to the user's tenant (AADSTS700016, "not found in the directory": an app not
 * installed by the tenant's administrator nor consented to there), and an administrator removing
 * the app from the tenant is the user's organisation withdrawing access; the answer does not say
 * which, and Microsoft asks clients not to depend on its AADSTS numbers.
 */
const REVOKED_ERRORS = new Set(['invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'interaction_required', 'consent_required']);

/**
 * The token endpoint refused the OAuth client itself (`invalid_client`: "client authentication
 * failed", RFC 6749 section 5.2), not the user's grant. From Microsoft it comes for a client
 * secret that expired (AADSTS7000222: "The provided client secret keys are expired", as reported
 * in Azure-Samples/ms-identity-python-webapp issue 67 and MicrosoftDocs/azure-docs issue 48669) or
 * that is not the app's (AADSTS7000215: MicrosoftDocs/azure-docs issue 33356); from Google for a
 * client id it does not know or a wrong secret ("The OAuth client was not found.":
 * simonrob/email-oauth2-proxy issue 362, parro-it/electron-google-oauth issue 16). Google's
 * `deleted_client` ("The OAuth client was deleted.", 401: google-api-nodejs-client issue 1256,
 * r-lib/httr PR 687) is the app's client too, deleted in its Google Cloud project. A user who
 * withdraws consent or whose refresh token lapses gets invalid_grant instead. So the user's
 * access is not in question, and the user reconnecting cannot mend it: whoever holds the app
 * registration must give the connection working client credentials. A `permanent` failure: the
 * sync fails (and is reported as failing), bots launch on their meetings as last synced.
 */
export class ClientCredentialsRefused extends CalendarProviderError {
  override name = 'ClientCredentialsRefused';
}

/** Said in the message of every ClientCredentialsRefused, so that a failure kept as text still tells it apart. */
const CLIENT_REFUSED = 'the OAuth client id or secret this connection was given is refused';

/** Whether a failure (as a sync records it, perhaps prefixed with the calendar it came from) is a ClientCredentialsRefused. */
export function isClientRefusal(failure: ProviderFailure): boolean {
  return failure.kind === 'permanent' && failure.message.includes(CLIENT_REFUSED);
}

export class OAuthTokenClient {
  readonly #tokenUrl: string;
  readonly #scope: string | null;
  readonly #send: HttpSend;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(options: { tokenUrl: string; scope?: string; send: HttpSend; timeoutMs: number; now: () => number }) {
    this.#tokenUrl = options.tokenUrl;
    this.#scope = options.scope ?? null;
    this.#send = options.send;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now;
  }

  async refresh(credentials: OAuthClientCredentials): Promise<RefreshedToken> {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      refresh_token: credentials.refreshToken,
      ...(this.#scope ? { scope: this.#scope } : {}),
    });
    const response = await this.#send({
      method: 'POST',
      url: this.#tokenUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      timeoutMs: this.#timeoutMs,
    });
    const now = this.#now();
    let body: { access_token?: unknown; expires_in?: unknown; refresh_token?: unknown; error?: unknown; error_description?: unknown; error_codes?: unknown } = {};
    try {
      body = JSON.parse(response.body) as typeof body;
    } catch {
      // an HTML error page; judged by status below
    }
    if (isSuccess(response) && typeof body.access_token === 'string') {
      const expiresInSeconds = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600);
      return {
        accessToken: body.access_token,
        expiresAtMs: now + (Number.isFinite(expiresInSeconds) ? expiresInSeconds : 3600) * 1000,
        refreshToken: typeof body.refresh_token === 'string' && body.refresh_token !== credentials.refreshToken ? body.refresh_token : null,
      };
    }
    // The description can echo request details; only the error code is kept.
    const code = typeof body.error === 'string' ? body.error : null;
    const message = `token refresh refused: HTTP ${response.status}${code ? ` ${code}` : ''}`;
    // Microsoft's error answer carries its AADSTS numbers in `error_codes` (its identity platform's
    // error code reference shows the answer's fields).
    const errorCodes = Array.isArray(body.error_codes) ? body.error_codes.filter((c): c is number => Number.isInteger(c)).slice(0, 3) : [];
    const oauth = code !== null && OAUTH_ERROR_CODE.test(code) ? { error: code, errorCodes } : undefined;
    if (code !== null && REVOKED_ERRORS.has(code)) throw new CalendarProviderError({ kind: 'auth_revoked', message }, { oauth });
    if (code === 'deleted_client') {
      throw new ClientCredentialsRefused({
        kind: 'permanent',
        message: `${message}: ${CLIENT_REFUSED} (the OAuth client was deleted); not the user's access: connect the account again with a working OAuth client`,
      }, { oauth });
    }
    if (code === 'invalid_client') {
      // Microsoft's numeric codes (error_codes) say which: 7000222 an expired secret, 7000215 a wrong one.
      const which = errorCodes.length > 0 ? ` (${errorCodes.map((c) => `AADSTS${c}`).join(', ')})` : '';
      throw new ClientCredentialsRefused({
        kind: 'permanent',
        message: `${message}${which}: ${CLIENT_REFUSED} (an expired or replaced client secret, a deleted app); not the user's access: connect the account again with the app's current client secret`,
      }, { oauth });
    }
    if (response.status === 429) {
      throw new CalendarProviderError({ kind: 'rate_limited', retryAfterMs: parseRetryAfterMs(response.headers, now) ?? DEFAULT_RATE_LIMIT_WAIT_MS, message });
    }
    // The endpoint's own "try again" answers (Microsoft's error table: server_error and
    // temporarily_unavailable, "retry the request"), a 5xx, and a refusal that is not the
    // endpoint's own (no OAuth error code: a proxy's page) pass; anything else is a setting to fix.
    if (response.status >= 500 || code === null || RETRY_ERRORS.has(code)) throw new CalendarProviderError({ kind: 'transient', message });
    throw new CalendarProviderError({ kind: 'permanent', message }, { oauth });
  }
}

/** What provider adapters ask for a bearer token; they never see refresh tokens. */
export interface AccessTokenSource {
  /** A token that should still be valid. */
  get(): Promise<string>;
  /**
   * The provider refused a token (`refused`, when the caller knows which): get a new one. A token
   * newer than the refused one, already in hand, is answered as it is.
   */
  renew(refused?: string): Promise<string>;
}

/** Refreshes on demand and reuses the token until a minute before it expires. */
export class RefreshingAccessToken implements AccessTokenSource {
  readonly #client: OAuthTokenClient;
  #credentials: OAuthClientCredentials;
  readonly #now: () => number;
  readonly #onRotated: (refreshToken: string) => Promise<void> | void;
  #current: { token: string; expiresAtMs: number } | null = null;

  constructor(client: OAuthTokenClient, credentials: OAuthClientCredentials, options: { now: () => number; onRotated?: (refreshToken: string) => Promise<void> | void }) {
    this.#client = client;
    this.#credentials = credentials;
    this.#now = options.now;
    this.#onRotated = options.onRotated ?? (() => {});
  }

  async get(): Promise<string> {
    if (this.#current && this.#current.expiresAtMs - 60_000 > this.#now()) return this.#current.token;
    return this.renew();
  }

  /**
   * One refresh at a time: requests made side by side (an adapter's bounded parallel lookups) that
   * all find the token expired, or all have it refused, share the refresh under way rather than
   * each spending the refresh token (which the endpoint may rotate with every use). A request
   * refused with a token that has been replaced since (`refused` is not the current one: its 401
   * came after the refresh ended) gets the current one, with no refresh of its own. A refresh
   * that fails is not kept: the next renewal tries again.
   */
  renew(refused?: string): Promise<string> {
    if (this.#renewing === null && refused !== undefined && this.#current !== null && this.#current.token !== refused) return Promise.resolve(this.#current.token);
    this.#renewing ??= this.#refresh().finally(() => {
      this.#renewing = null;
    });
    return this.#renewing;
  }

  #renewing: Promise<string> | null = null;

  async #refresh(): Promise<string> {
    const refreshed = await this.#client.refresh(this.#credentials);
    if (refreshed.refreshToken) {
      this.#credentials = { ...this.#credentials, refreshToken: refreshed.refreshToken };
      await this.#onRotated(refreshed.refreshToken);
    }
    this.#current = { token: refreshed.accessToken, expiresAtMs: refreshed.expiresAtMs };
    return refreshed.accessToken;
  }
}
