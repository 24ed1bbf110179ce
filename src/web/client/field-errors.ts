// Which field of a form a refusal is about. The API names the request field at fault in its
// answer's `details.field` ("scheduled_join_time", "default_bot_config.join_at", "rules.organizer"),
// and its message starts with it; a form marks the input that holds that field as invalid, puts the
// message beneath it (aria-describedby) and moves focus there, rather than a notice far from it.
import { ApiFailure } from './api-failure.ts';

/** A request field's path as the API writes it: words joined by dots. */
const FIELD_PATH = /^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)(?::|\s)/;

/** The request field `error` names: its `details.field`, else the field its message starts with; null when none. */
export function failedField(error: unknown): string | null {
  if (!(error instanceof ApiFailure)) return null;
  const field = error.details?.field;
  if (typeof field === 'string' && field !== '') return field;
  return FIELD_PATH.exec(error.message)?.[1] ?? null;
}

/** Whether `field` is `path` or a part of it ("default_bot_config.join_at" is in "default_bot_config"). */
export function isFieldIn(field: string | null, path: string): boolean {
  return field !== null && (field === path || field.startsWith(`${path}.`));
}

/** The attributes of an input whose value was refused, described by the element `errorId` holds the message in. */
export function invalidFieldProps(errorId: string, isInvalid: boolean): { 'aria-invalid'?: 'true'; 'aria-describedby'?: string } {
  return isInvalid ? { 'aria-invalid': 'true', 'aria-describedby': errorId } : {};
}
