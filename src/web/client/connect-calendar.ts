// Connecting a calendar from the Calendars page: what the form checks before it sends, the API
// request it sends (the routes an API client uses, docs/calendar-sync.md), which of its fields a
// refusal is about, and what it says once the first sync answered. Pure: the page renders these.
import { ApiFailure } from './api-failure.ts';
import { failedField } from './field-errors.ts';
import type { Connection } from './types.ts';

export type ConnectKind = Connection['provider'];

/** What the person typed; an account's fields are shared by Google and Microsoft. */
export interface ConnectDraft {
  kind: ConnectKind;
  icsUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export type ConnectField = 'icsUrl' | 'clientId' | 'clientSecret' | 'refreshToken';

/** A refusal, beside the field it is about (null: the form as a whole). */
export interface ConnectProblem {
  field: ConnectField | null;
  text: string;
  /** No answer said whether it connected (its answer was lost): the list of connections is read again. */
  isOutcomeUnknown?: true;
  /** Other fields the refusal may be about, marked invalid with the same words (focus goes to `field`). */
  alsoFields?: ConnectField[];
}

/**
 * Whether a failure leaves unknown whether the calendar was connected: the request may have reached
 * Rollcall, which connected it, and its answer was lost on the way back (a network cut; a proxy
 * that gave up waiting for the first sync, 502, 503 or 504, or any other page that is not the
 * API's JSON), or the server failed after it may have stored the connection (any other 5xx but
 * the API's own that say nothing was stored, such as `calendar_provider_unavailable`).
 */
export function isOutcomeUnknown(error: unknown): boolean {
  if (!(error instanceof ApiFailure)) return false;
  return error.code === 'network_error' || (error.status >= 500 && !NOTHING_STORED.has(error.code));
}

/** The API's 5xx refusals that say the connection was not stored (docs/errors.md). */
const NOTHING_STORED = new Set(['calendar_provider_unavailable', 'not_ready', 'database_unavailable', 'database_busy']);

export const EMPTY_DRAFT: ConnectDraft = { kind: 'ics', icsUrl: '', clientId: '', clientSecret: '', refreshToken: '' };

/** The schemes a feed's address may have: webcal is how calendar apps link a feed, and is read over https. */
const FEED_SCHEME = /^(https?|webcals?):\/\//i;

const ACCOUNT_FIELD_WORDS: Record<Exclude<ConnectField, 'icsUrl'>, string> = { clientId: 'client id', clientSecret: 'client secret', refreshToken: 'refresh token' };

/** What is missing or malformed before anything is sent, the first such field; null when the draft can be sent. */
export function checkDraft(draft: ConnectDraft): ConnectProblem | null {
  if (draft.kind === 'ics') {
    const url = draft.icsUrl.trim();
    if (url === '') return { field: 'icsUrl', text: 'Enter the feed\'s address.' };
    if (!FEED_SCHEME.test(url)) return { field: 'icsUrl', text: 'The feed\'s address starts with https://, http:// or webcal://.' };
    try {
      new URL(url.replace(/^webcals?:\/\//i, 'https://'));
    } catch {
      return { field: 'icsUrl', text: 'This is not a web address: check it for spaces or missing parts.' };
    }
    return null;
  }
  for (const field of ['clientId', 'clientSecret', 'refreshToken'] as const) {
    if (draft[field].trim() === '') return { field, text: `Enter the ${ACCOUNT_FIELD_WORDS[field]}.` };
  }
  return null;
}

/**
 * The API request that connects the draft. An Outlook account already connected is connected
 * again (`replace: true`), as Google accounts and feeds always are: connecting again is how a
 * person gives back access a connection lost.
 */
export function connectRequest(draft: ConnectDraft, calendarIds?: readonly string[]): { path: string; body: Record<string, unknown> } {
  const trimmed = { id: draft.clientId.trim(), secret: draft.clientSecret.trim(), token: draft.refreshToken.trim() };
  // An account's calendars chosen after it connected (calendar_ids, docs/calendar-sync.md); a feed has one.
  const chosen = calendarIds === undefined ? {} : { calendar_ids: [...calendarIds] };
  switch (draft.kind) {
    case 'ics':
      return { path: '/calendar/create_ics_calendar', body: { ics_url: draft.icsUrl.trim() } };
    case 'google':
      return { path: '/calendar/create_calendar', body: { google_client_id: trimmed.id, google_client_secret: trimmed.secret, google_refresh_token: trimmed.token, ...chosen } };
    case 'outlook':
      return { path: '/calendar/create_outlook_calendar', body: { microsoft_client_id: trimmed.id, microsoft_client_secret: trimmed.secret, microsoft_refresh_token: trimmed.token, replace: true, ...chosen } };
  }
}

/**
 * What is wrong with a choice of calendars before it is sent; null when it can be. The API takes
 * a list of at least one (an account syncing none would be a connection that reads nothing: that
 * is removing it).
 */
export function checkCalendarChoice(calendarIds: readonly string[]): string | null {
  return calendarIds.length === 0 ? 'Choose at least one calendar. To sync none of this account\'s calendars, remove its connection from its card above.' : null;
}

/**
 * Whether a choice of calendars is the one the account syncs already: then nothing is sent. Sent,
 * even unchanged, the ids would become the connection's fixed list, and a connection on the
 * defaults ("all") would stop picking up the calendars the account adds later
 * (docs/calendar-sync.md, "Which calendars are synced").
 */
export function isChoiceUnchanged(answer: Pick<ConnectAnswer, 'available_calendars'>, calendarIds: readonly string[]): boolean {
  const synced = new Set(answer.available_calendars.filter((c) => c.synced).map((c) => c.id));
  const chosen = new Set(calendarIds);
  return chosen.size === synced.size && [...chosen].every((id) => synced.has(id));
}

/** The API's field names, by the form's. */
const API_FIELDS: Record<string, ConnectField> = {
  ics_url: 'icsUrl',
  google_client_id: 'clientId', microsoft_client_id: 'clientId',
  google_client_secret: 'clientSecret', microsoft_client_secret: 'clientSecret',
  google_refresh_token: 'refreshToken', microsoft_refresh_token: 'refreshToken',
};

/** An OAuth error code in the API's message, with Microsoft's AADSTS number when it gives one: for an answer without `details.oauth_error`. */
const OAUTH_CODE = /\b(invalid_client|deleted_client|invalid_grant|unauthorized_client|interaction_required|consent_required)\b(?: \((AADSTS\d+)\))?/;
const CLIENT_REFUSALS = new Set(['invalid_client', 'deleted_client']);
/** The refusals of the user's grant (RFC 6749 section 5.2; Microsoft's interaction_required and consent_required). */
const GRANT_REFUSALS = new Set(['invalid_grant', 'interaction_required', 'consent_required']);
/** Microsoft's AADSTS700016: no app with this id in the directory (a mistyped or unregistered client id). */
const UNKNOWN_APP = 700016;

/** The outbound guard's words for an address that is not public (NOT_PUBLIC_REASON in src/adapters/outbound-guard.ts). */
const NOT_PUBLIC = /must lead to a public address/;

/**
 * Which field a refusal is about, and what to say. The API names a feed's field (`details.field`,
 * `ics_url`); for an account it says `calendar_auth_failed` with the provider's OAuth error code
 * in `details.oauth_error` (authProblem says which field that is).
 */
export function connectProblem(error: unknown): ConnectProblem {
  const text = error instanceof Error ? error.message : String(error);
  if (!(error instanceof ApiFailure)) return { field: null, text };
  if (isOutcomeUnknown(error)) {
    return { field: null, isOutcomeUnknown: true, text: `${text} The calendar may have been connected all the same (its answer may have been lost on the way back): the list above is read again and shows it if so. Connecting it again is harmless.` };
  }
  const field = failedField(error);
  const onField = field !== null ? API_FIELDS[field] ?? null : null;
  if (onField === 'icsUrl') {
    const words = feedRefusalWords(text);
    if (error.code === 'calendar_url_not_allowed' && NOT_PUBLIC.test(text)) {
      return { field: 'icsUrl', text: `Rollcall does not read feeds on private, local or unknown hosts (it would let anyone reach the network it runs in): use the feed's public address. (${words})` };
    }
    return { field: 'icsUrl', text: words };
  }
  if (onField !== null) return { field: onField, text };
  if (error.code === 'calendar_auth_failed') {
    const refusal = oauthRefusalOf(error, text);
    if (refusal !== null) return authProblem(refusal) ?? { field: null, text };
    if (/refused the credentials/.test(text)) {
      return { field: 'refreshToken', text: 'The provider refused the refresh token: it expired, was revoked, or was issued to another client. Sign the account in again for a new one.' };
    }
  }
  return { field: null, text };
}

/**
 * The provider's OAuth error code and AADSTS numbers: from the API's `details` (`oauth_error`,
 * `provider_error_codes`), else (an answer without them) from its message's words.
 */
function oauthRefusalOf(error: ApiFailure, text: string): { code: string; numbers: number[] } | null {
  const code = error.details?.oauth_error;
  if (typeof code === 'string') {
    const numbers = error.details?.provider_error_codes;
    return { code, numbers: Array.isArray(numbers) ? numbers.filter((n): n is number => Number.isInteger(n)) : [] };
  }
  const said = OAUTH_CODE.exec(text);
  return said ? { code: said[1]!, numbers: said[2] ? [Number(said[2].slice('AADSTS'.length))] : [] } : null;
}

/**
 * Which field a provider's OAuth refusal is about (RFC 6749 section 5.2): `invalid_client` is the
 * client, id or secret (Google says so for an unknown id and a wrong secret alike), so focus goes
 * to the id and both are marked; `invalid_grant` (and Microsoft's interaction_required and
 * consent_required) the refresh token; `unauthorized_client` is the client not allowed this
 * grant, which names no one field: the client id, or the refresh token issued to another client
 * (Microsoft's AADSTS700016, an app id not in the directory, is the client id). Null for a code
 * that names no credential.
 */
function authProblem({ code, numbers }: { code: string; numbers: number[] }): ConnectProblem | null {
  const said = ` (${[code, ...numbers.map((n) => `AADSTS${n}`)].join(', ')})`;
  if (CLIENT_REFUSALS.has(code)) {
    return { field: 'clientId', alsoFields: ['clientSecret'], text: `The provider refused the client id or client secret${said}: check both; a secret that expired or was replaced needs the app's current one.` };
  }
  if (GRANT_REFUSALS.has(code)) {
    return { field: 'refreshToken', text: `The provider refused the refresh token${said}: it expired, was revoked, or was issued to another client. Sign the account in again for a new one.` };
  }
  if (code === 'unauthorized_client') {
    if (numbers.includes(UNKNOWN_APP)) {
      return { field: null, text: `The provider does not know this client id${said}: no app with this id is registered in, or consented to by, the account's organisation. Check the client id.` };
    }
    return { field: null, text: `The provider does not let this client use this refresh token${said}: check the client id, and that the refresh token was issued to this client (if not, sign the account in again with it).` };
  }
  return null;
}

/**
 * A feed's refusal as said beneath the field named Feed address: the API starts its message with
 * the request field ("ics_url: the URL did not answer…", "ics_url must be…"), which means nothing
 * to a person there.
 */
export function feedRefusalWords(text: string): string {
  const colon = /^ics_url:\s*(.)/.exec(text);
  if (colon) return `${colon[1]!.toUpperCase()}${text.slice(colon[0].length)}`;
  return text.replace(/^ics_url\s+/, 'The address ');
}

/** The answer of a connect route (ConnectResponse in src/services/calendars/calendar-connections.ts). */
export interface ConnectAnswer extends Connection {
  message: string;
  /** Connected already: this replaced that connection, keeping its calendars (and an earlier calendar_ids choice). */
  replaced: boolean;
  available_calendars: { id: string; summary: string | null; isPrimary: boolean; synced: boolean }[];
  sync: { synced: boolean; created: number; updated: number; cancelled: number; error: string | null };
}

/** What the first sync brought, in a sentence. */
export function firstSyncWords(sync: ConnectAnswer['sync']): string {
  if (!sync.synced) return `The first sync failed${sync.error ? ` (${sync.error})` : ''}; Rollcall tries again by itself, and the card below says how it goes.`;
  const brought = `The first sync brought ${sync.created} ${sync.created === 1 ? 'event' : 'events'}`;
  const changed = sync.updated > 0 ? `, and updated ${sync.updated} already known` : '';
  return `${brought}${changed}; ${sync.created + sync.updated === 0 ? 'nothing to show on Events yet.' : 'they are on Events.'}`;
}

/** The account's calendars, the synced ones first, each with whether Rollcall syncs it. */
export function availableCalendars(answer: ConnectAnswer): { id: string; name: string; isPrimary: boolean; synced: boolean }[] {
  return [...answer.available_calendars]
    .sort((a, b) => Number(b.synced) - Number(a.synced))
    .map((c) => ({ id: c.id, name: c.summary ?? c.id, isPrimary: c.isPrimary, synced: c.synced }));
}

/** A draft after a connection: secrets go, and so does everything else typed (the form is ready for another). Given the draft as it is then. */
export function clearedDraft(draft: ConnectDraft): ConnectDraft {
  return { ...EMPTY_DRAFT, kind: draft.kind };
}

/** A draft when the person picks another kind: the account's secrets are not kept for the next one. */
export function switchedDraft(draft: ConnectDraft, kind: ConnectKind): ConnectDraft {
  if (kind === draft.kind) return draft;
  return { ...draft, kind, clientSecret: '', refreshToken: '' };
}
