// Every error code the API can answer with, its HTTP status and what it means. docs/errors.md
// documents each one; a test keeps the two in step.

export const ERROR_CATALOG = {
  validation_error: { status: 400, meaning: 'A field is missing, has the wrong type or is out of range; the message names it.' },
  invalid_json: { status: 400, meaning: 'The body is not valid JSON.' },
  invalid_time: { status: 400, meaning: 'A time is not ISO 8601 with an offset (Z or +hh:mm), or the range is inverted.' },
  invalid_recurrence: { status: 400, meaning: 'A recurrence line or the time zone is not valid.' },
  invalid_cursor: { status: 400, meaning: 'The cursor is not one this API issued.' },
  invalid_deduplication_key: { status: 400, meaning: 'deduplication_key is missing, empty, over 2000 characters or not printable.' },
  invalid_bot_config: { status: 400, meaning: 'bot_config is missing or one of its fields is wrong (for example automatic_leave out of range).' },
  invalid_join_at: { status: 400, meaning: 'join_at / scheduled_join_time is malformed, in the past, or after the meeting ends.' },
  invalid_meeting_url: { status: 400, meaning: 'The meeting URL is not an http(s) URL.' },
  no_meeting_url: { status: 400, meaning: 'The event has no meeting URL and bot_config.meeting_url was not given.' },
  invalid_occurrence_date: { status: 400, meaning: 'occurrence_date is not an ISO 8601 date or date-time with offset.' },
  invalid_occurrence_limit: { status: 400, meaning: 'occurrence_limit is not an integer from 1 to 500.' },
  event_not_recurring: { status: 400, meaning: 'An occurrence option was given for an event that is not a recurring series.' },
  event_ended: { status: 400, meaning: 'The event (or occurrence) has already ended.' },
  event_cancelled: { status: 400, meaning: 'The event is cancelled or deleted.' },
  bot_already_joined: { status: 400, meaning: 'The bot has already been launched, so its schedule can no longer change.' },
  bot_active: { status: 400, meaning: 'The bot is in a meeting and cannot be cancelled.' },
  callback_url_not_allowed: { status: 400, meaning: 'callback_url is not http(s) or resolves to a loopback, private, link-local or metadata address.' },
  not_supported: { status: 400, meaning: 'The request asks for a feature that is not built yet (for example recurring_event: true).' },
  unauthorized: { status: 401, meaning: 'Missing or malformed Authorization header, or an unknown or revoked API key.' },
  not_found: { status: 404, meaning: 'No such route.' },
  event_not_found: { status: 404, meaning: 'No event with this id belongs to the caller.' },
  bot_not_found: { status: 404, meaning: 'No bot with this id belongs to the caller.' },
  occurrence_not_found: { status: 404, meaning: 'The series has no occurrence at occurrence_date.' },
  method_not_allowed: { status: 405, meaning: 'The route exists but not with this method.' },
  deduplication_conflict: { status: 409, meaning: 'The deduplication_key already belongs to a live bot for a different meeting; bot_id names it.' },
  event_already_scheduled: { status: 409, meaning: 'The event (or occurrence) already has a live bot under another deduplication_key; bot_id names it.' },
  invalid_status_transition: { status: 409, meaning: 'The reported bot status cannot follow the current one.' },
  payload_too_large: { status: 413, meaning: 'The body is over 1 MiB.' },
  unsupported_media_type: { status: 415, meaning: 'The body is not application/json.' },
  rate_limited: { status: 429, meaning: 'Too many requests for this API key; Retry-After says when to try again.' },
  internal_error: { status: 500, meaning: 'A bug. The response carries no detail; the log has it.' },
  not_ready: { status: 503, meaning: 'The service is starting or its database is unreachable.' },
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
  return {
    error: error.message,
    code: error.code,
    status_code: error.status,
    ...(error.details ? { details: error.details } : {}),
    ...error.extra,
  };
}
