// A refusal or failure of an API request, in the API's own terms: its message, status, code and details.
export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  /** The API's `details`, when it sent any (`field` names the request field at fault). */
  readonly details: Record<string, unknown> | null;
  constructor(message: string, status: number, code: string, details: Record<string, unknown> | null = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The API's error shape (errorBody in src/errors.ts): `error` and `message` carry the same text. */
export interface ErrorBody {
  error?: unknown;
  message?: unknown;
  code?: string;
  details?: Record<string, unknown>;
}

/**
 * What a refusal says to a person: the API's message. An internal error's message says nothing
 * (the detail is in the server's log, never in the answer), so it is said in words; an answer that
 * is not the API's (a proxy's page, or a gateway's JSON whose `error` is an object) is described
 * by its status.
 */
export function failureText(status: number, error: ErrorBody | null): string {
  if (error?.code === 'internal_error') return 'The server failed to answer this request (an internal error; the server\'s log has the details). Try again.';
  const text = [error?.message, error?.error].find((value): value is string => typeof value === 'string' && value.trim() !== '');
  if (text !== undefined) return text;
  return status >= 500 ? `The server answered ${status}: it may be restarting or overloaded. Try again shortly.` : `The server answered ${status}.`;
}
