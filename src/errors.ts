// Every error code the API can answer with, its HTTP status and what it means. docs/errors.md
// documents each one; a test keeps the two in step.

import { scrubSecrets } from './lib/logger.ts';

export const ERROR_CATALOG = {
  validation_error: { status: 400, meaning: 'A field is missing, has the wrong type or is out of range; the message names it.' },
  invalid_json: { status: 400, meaning: 'The body is not valid JSON.' },
  invalid_time: { status: 400, meaning: 'A time is not ISO 8601 with an offset (Z or +hh:mm), or the range is inverted.' },
  invalid_recurrence: { status: 400, meaning: 'A recurrence line or the time zone is not valid.' },
  invalid_cursor: { status: 400, meaning: 'The cursor is not one this API issued.' },
  invalid_deduplication_key: { status: 400, meaning: 'deduplication_key is missing, empty, over 2000 characters or not printable.' },
  invalid_bot_config: { status: 400, meaning: 'bot_config is missing or one of its fields is wrong (for example automatic_leave out of range).' },
  invalid_join_at: { status: 400, meaning: 'join_at / scheduled_join_time is malformed, in the past, or after the meeting ends.' },
  invalid_meeting_url: { status: 400, meaning: 'The meeting URL is not an http(s) URL on a public host (no credentials, no private or loopback address, no internal name).' },
  no_meeting_url: { status: 400, meaning: 'The event has no meeting URL and bot_config.meeting_url was not given.' },
  invalid_occurrence_date: { status: 400, meaning: 'occurrence_date is not an ISO 8601 date or date-time with offset.' },
  invalid_occurrence_limit: { status: 400, meaning: 'occurrence_limit is not an integer from 1 to 500.' },
  event_not_recurring: { status: 400, meaning: 'An occurrence option was given for an event that is not a recurring series.' },
  event_ended: { status: 400, meaning: 'The event (or occurrence) has already ended.' },
  event_cancelled: { status: 400, meaning: 'The event is cancelled or deleted.' },
  bot_already_joined: { status: 400, meaning: 'The bot is no longer waiting to join (launched, finished, cancelled or missed), so its schedule cannot change.' },
  bot_active: { status: 400, meaning: 'The bot is in a meeting (or on its way in or out): it cannot be cancelled and its data cannot be deleted; remove it first (remove_bot).' },
  callback_url_not_allowed: { status: 400, meaning: 'callback_url is not http(s) or resolves to a loopback, private, link-local or metadata address.' },
  not_supported: { status: 400, meaning: 'The request asks for a feature this deployment does not offer.' },
  encryption_key_not_configured: { status: 400, meaning: 'Connecting Google or Microsoft needs CREDENTIALS_ENCRYPTION_KEY, so that their credentials are encrypted at rest; the deployment has none, or one that opens none of the values already sealed (the message says which).' },
  calendar_url_not_allowed: { status: 400, meaning: 'ics_url is not an http(s) or webcal URL, or resolves to a loopback, private, link-local or metadata address.' },
  calendar_feed_invalid: { status: 400, meaning: 'ics_url could not be read as an iCalendar feed: no BEGIN:VCALENDAR in its first 4 KiB (whatever its Content-Type), access refused (401/403/404/410), over a parser limit, or redirected to a non-public address.' },
  calendar_auth_failed: { status: 400, meaning: 'The provider refused the client id, client secret or refresh token (for example invalid_grant or invalid_client); details.oauth_error carries the token endpoint\'s OAuth error code, details.provider_error_codes Microsoft\'s AADSTS numbers.' },
  calendar_connection_limit: { status: 400, meaning: 'The user already has the maximum number of calendar connections (200).' },
  unauthorized: { status: 401, meaning: 'The Authorization header is missing or is not "Token <api_key>"; on a bot\'s status route, not its "Bearer <status_token>".' },
  invalid_notification: { status: 401, meaning: 'A calendar push notification names a channel or subscription this service did not create, or carries the wrong channel token or clientState.' },
  not_found: { status: 404, meaning: 'No such route.' },
  calendar_not_found: { status: 404, meaning: 'No calendar connection with this id belongs to the caller.' },
  event_not_found: { status: 404, meaning: 'No event with this id belongs to the caller.' },
  bot_not_found: { status: 404, meaning: 'No bot with this id belongs to the caller.' },
  occurrence_not_found: { status: 404, meaning: 'The series has no occurrence at occurrence_date.' },
  method_not_allowed: { status: 405, meaning: 'The route exists but not with this method.' },
  deduplication_conflict: { status: 409, meaning: 'The deduplication_key already belongs to a live bot for a different meeting; bot_id names it.' },
  event_already_scheduled: { status: 409, meaning: 'The event (or occurrence) already has a live bot under another deduplication_key; bot_id names it.' },
  calendar_already_connected: { status: 409, meaning: 'This Microsoft account is already connected; send replace: true to replace the connection. calendar_id names it.' },
  calendar_auth_revoked: { status: 409, meaning: 'The connection lost its access at the provider (auth_revoked); connect the account again to resume syncing.' },
  invalid_status_transition: { status: 409, meaning: 'The reported bot status cannot follow the current one.' },
  malformed_request: { status: 400, meaning: 'The request is not well-formed HTTP (a control character in a header, Content-Length beside Transfer-Encoding, a Content-Length that is not a number); the connection is closed.' },
  request_timeout: { status: 408, meaning: 'The request\'s headers and body did not arrive within 30 s; the connection is closed.' },
  payload_too_large: { status: 413, meaning: 'The body is over 1 MiB.' },
  unsupported_media_type: { status: 415, meaning: 'The body is not application/json.' },
  headers_too_large: { status: 431, meaning: 'The request line and headers are over 16 KiB (Node\'s limit); the connection is closed.' },
  rate_limited: { status: 429, meaning: 'Too many requests for this API key; Retry-After says when to try again.' },
  too_many_streams: { status: 429, meaning: 'The user already has 20 live status streams (text/event-stream) open on this instance; close one first.' },
  internal_error: { status: 500, meaning: 'A bug. The response carries no detail; the log has it.' },
  route_not_served: { status: 501, meaning: 'A MeetStream route Rollcall does not serve (recordings, transcripts, live control of a bot, agents, the runtime\'s account integrations); the message says where that lives instead.' },
  calendar_provider_unavailable: { status: 503, meaning: 'The calendar provider or feed is rate limiting or not answering while a connection is checked; nothing was stored; details.retry_after_seconds says when to try again.' },
  calendar_sync_deferred: { status: 503, meaning: 'POST .../sync while the calendar provider\'s Retry-After for this connection still runs: the provider was not called; the connection syncs by itself when the wait ends (details.next_sync_at), which Retry-After and details.retry_after_seconds name.' },
  not_ready: { status: 503, meaning: 'The service is starting or its database is unreachable.' },
  secret_unavailable: { status: 503, meaning: 'The webhook signing secret is stored sealed and none of the configured keys opens it (CREDENTIALS_ENCRYPTION_KEY removed or changed without the old key in CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS); the operator must restore the key.' },
  database_unavailable: { status: 503, meaning: 'The database cannot be reached or cannot write right now (a restart, a failover, a full disk); nothing was changed. Retry with backoff; /readyz says when it is back.' },
  database_busy: { status: 503, meaning: 'PostgreSQL gave up on a statement of this request at its statement_timeout or lock_timeout (a slow query, a long lock); nothing was changed. Retry shortly; the database is not down, and /readyz stays ready.' },
  invalid_provider_webhook: { status: 400, meaning: 'A bot provider webhook with a valid signature is not a status webhook this service can read (no bot id or status).' },
  invalid_provider_signature: { status: 401, meaning: 'A bot provider webhook carries no signature, or one that does not verify with BOT_PROVIDER_WEBHOOK_SECRET.' },
  provider_not_configured: { status: 404, meaning: 'The provider named in the webhook path is not the BOT_RUNTIME of this deployment.' },
  provider_bot_not_found: { status: 404, meaning: 'A signed provider webhook names a provider bot that no Rollcall bot is linked to (yet: its metadata says Rollcall made it); nothing changed. Another application\'s bot is acknowledged instead.' },
  invalid_csrf_token: { status: 403, meaning: 'A state-changing request authenticated by a dashboard session cookie lacks the session\'s X-CSRF-Token header, carries a wrong one, or comes from another site.' },
  delivery_not_found: { status: 404, meaning: 'No webhook delivery with this id belongs to the caller.' },
  recurrence_too_long: { status: 400, meaning: 'The series\' rule has more occurrences before now than Rollcall counts (a COUNT rule with over 10,000 instances before now, walked from the series start); end it and start a new series.' },
  forbidden: { status: 403, meaning: 'The API key is unknown or revoked (MeetStream\'s convention: 401 is for a missing header only).' },
  invalid_idempotency_key: { status: 400, meaning: 'The Idempotency-Key header is empty, over 255 characters, or has characters other than visible ASCII.' },
  bot_not_in_meeting: { status: 409, meaning: 'remove_bot: the bot has already left the meeting or finished; there is nothing to remove.' },
  calendar_not_connected: { status: 400, meaning: 'A disconnect names no connected calendar: the user has none, none of this provider, or none with this account_id (MeetStream answers 400 here).' },
  multiple_calendar_connections: { status: 400, meaning: 'A disconnect without provider or account_id while the user has several connections; scope, connection_count and next_steps say how to name one.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** An expected failure with a stable code; the HTTP layer turns it into the error body. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Fields placed at the top level of the body (MeetStream clients read `bot_id` from a 409). */
  readonly extra: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: Record<string, unknown>; extra?: Record<string, unknown> } = {}) {
    super(message);
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = options.details;
    this.extra = options.extra;
  }
}

export function errorBody(error: ApiError): Record<string, unknown> {
  // A message may quote what was sent, and what was sent may be a credential in the wrong place
  // (a key where an id goes): answers, like logs, pass through proxies that keep them.
  const message = scrubSecrets(error.message);
  return {
    error: message,
    // The same text again: MeetStream's clients print `message`, Rollcall's read `error`.
    message,
    code: error.code,
    status_code: error.status,
    ...(error.details ? { details: error.details } : {}),
    ...error.extra,
  };
}
