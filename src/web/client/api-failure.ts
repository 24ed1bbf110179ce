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
