// Builds the CalendarProvider for a connection's credentials. The composition root calls
// createProviderFactory once with the settings; the sync service only sees the factory.
// Access tokens are cached per refresh token across syncs, so a connection polled every few
// minutes does not refresh every time.
import { createHash } from 'node:crypto';
import type { CalendarProvider, ProviderCapabilities, ProviderCredentials, ProviderKind } from './calendar-provider.ts';
import { IcsCalendarProvider, ICS_CAPABILITIES } from './ics-calendar-provider.ts';
import { GoogleCalendarProvider, GOOGLE_CAPABILITIES } from './google-calendar-provider.ts';
import { MAILBOX_REQUESTS_AT_ONCE, MicrosoftCalendarProvider, MICROSOFT_CAPABILITIES, MICROSOFT_SCOPE, type MailboxSlots } from './microsoft-calendar-provider.ts';
import { ClientCredentialsRefused, OAuthTokenClient, RefreshingAccessToken, type AccessTokenSource } from './oauth-token-client.ts';
import { createHttpSend, type HttpSend } from './provider-http.ts';
import type { OutboundHttp } from '../outbound-http.ts';
import { KeyedSlots } from '../../lib/keyed-slots.ts';

export interface ProviderFactoryOptions {
  googleOAuthTokenUrl: string;
  googleCalendarApiUrl: string;
  microsoftLoginUrl: string;
  microsoftGraphUrl: string;
  timeoutMs: number;
  now: () => number;
  /** The one outbound client: feed requests go through it guarded, provider API calls unguarded. */
  http: OutboundHttp;
  /** Replaces the client (tests of the adapters' mapping). */
  send?: HttpSend;
  /** Ends provider requests under way when aborted (the sync stopping), read as each starts. */
  signal?: () => AbortSignal;
  /**
   * Told each time a token endpoint refuses a stored connection's OAuth client itself
   * (invalid_client: an expired or wrong client secret), for the operator's log: the connection's
   * sync fails until it is given working client credentials, and the user can do nothing about
   * it. Not told of credentials being connected (no cacheKey): a wrong secret there is the
   * caller's own, answered to the caller.
   */
  onClientRefused?: (refusal: { provider: 'google' | 'microsoft'; connectionId: string; message: string }) => void;
}

export interface ProviderHooks {
  onRefreshTokenRotated(refreshToken: string): Promise<void>;
  /**
   * Reuse the access token across calls made under this key (the connection id) while the
   * credentials stay the same. Without it every provider refreshes on first use (connecting).
   */
  cacheKey?: string;
  /**
   * The account the connection reads (its account_id): Graph requests of one app (client id) to
   * one mailbox share MAILBOX_REQUESTS_AT_ONCE slots in the process, whichever connection makes
   * them. Without it (connecting: the account is not known yet) requests take no slot.
   */
  mailbox?: string;
}

/** What each kind of provider can do, without building one (no credentials needed). */
export const CAPABILITIES_BY_KIND: Readonly<Record<ProviderKind, ProviderCapabilities>> = Object.freeze({
  ics: ICS_CAPABILITIES,
  google: GOOGLE_CAPABILITIES,
  microsoft: MICROSOFT_CAPABILITIES,
});

const MAX_CACHED_TOKENS = 10_000;

function fingerprint(credentials: { clientId: string; clientSecret: string; refreshToken: string }): string {
  return createHash('sha256').update(`${credentials.clientId}\n${credentials.clientSecret}\n${credentials.refreshToken}`).digest('hex');
}

export function createProviderFactory(options: ProviderFactoryOptions): (credentials: ProviderCredentials, hooks: ProviderHooks) => CalendarProvider {
  const send = options.send ?? createHttpSend(options.http, options.signal);
  const google = new OAuthTokenClient({ tokenUrl: options.googleOAuthTokenUrl, send, timeoutMs: options.timeoutMs, now: options.now });
  const microsoft = new OAuthTokenClient({ tokenUrl: `${options.microsoftLoginUrl}/oauth2/v2.0/token`, scope: MICROSOFT_SCOPE, send, timeoutMs: options.timeoutMs, now: options.now });
  const tokens = new Map<string, { fingerprint: string; source: RefreshingAccessToken; hooks: ProviderHooks }>();
  const mailboxes = new KeyedSlots(MAILBOX_REQUESTS_AT_ONCE);
  /**
   * The slots of one app's requests to one mailbox, by client id and account (see
   * ProviderHooks.mailbox). Both are compared without case: an app id is a GUID, whose hex digits
   * are case-insensitive (RFC 4122, section 3), and an account is an address, its case not telling
   * mailboxes apart; two connections typed differently are still one app reading one mailbox.
   */
  const slotsOf = (clientId: string, mailbox: string | undefined): MailboxSlots | undefined => {
    if (mailbox === undefined) return undefined;
    const key = `${clientId.toLowerCase()}\n${mailbox.toLowerCase()}`;
    return (send, wait) => mailboxes.run(key, send, { signal: wait.stop, maxWaitMs: wait.maxWaitMs });
  };

  /** `source`, telling onClientRefused of a refusal of a stored connection's OAuth client (the error is thrown on as it was). */
  const reporting = (provider: 'google' | 'microsoft', source: AccessTokenSource, hooks: ProviderHooks): AccessTokenSource => {
    const report = (error: unknown): never => {
      if (error instanceof ClientCredentialsRefused && hooks.cacheKey !== undefined) options.onClientRefused?.({ provider, connectionId: hooks.cacheKey, message: error.message });
      throw error;
    };
    return { get: () => source.get().catch(report), renew: (refused?: string) => source.renew(refused).catch(report) };
  };

  const tokenSource = (client: OAuthTokenClient, credentials: { clientId: string; clientSecret: string; refreshToken: string }, hooks: ProviderHooks) => {
    const key = hooks.cacheKey;
    const current = fingerprint(credentials);
    const cached = key !== undefined ? tokens.get(key) : undefined;
    if (cached && cached.fingerprint === current) {
      cached.hooks = hooks;
      return cached.source;
    }
    const entry = {
      fingerprint: current,
      hooks,
      source: new RefreshingAccessToken(client, credentials, {
        now: options.now,
        onRotated: async (refreshToken) => {
          // The caller stores the new token; the next lookup then finds this entry again.
          entry.fingerprint = fingerprint({ ...credentials, refreshToken });
          await entry.hooks.onRefreshTokenRotated(refreshToken);
        },
      }),
    };
    if (key !== undefined) {
      if (tokens.size >= MAX_CACHED_TOKENS) tokens.clear();
      tokens.set(key, entry);
    }
    return entry.source;
  };

  return (credentials, hooks) => {
    switch (credentials.kind) {
      case 'ics':
        return new IcsCalendarProvider({ url: credentials.url, send, timeoutMs: options.timeoutMs, now: options.now });
      case 'google':
        return new GoogleCalendarProvider({ baseUrl: options.googleCalendarApiUrl, tokens: reporting('google', tokenSource(google, credentials, hooks), hooks), send, timeoutMs: options.timeoutMs, now: options.now });
      case 'microsoft':
        return new MicrosoftCalendarProvider({
          baseUrl: options.microsoftGraphUrl, tokens: reporting('microsoft', tokenSource(microsoft, credentials, hooks), hooks), send, timeoutMs: options.timeoutMs, now: options.now,
          ...(hooks.mailbox !== undefined ? { mailboxSlots: slotsOf(credentials.clientId, hooks.mailbox)! } : {}),
        });
    }
  };
}

