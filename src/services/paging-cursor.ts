// Paging cursors: opaque to clients (base64url of a small JSON object), read back strictly, so that
// a cursor this API did not issue is a 400 `invalid_cursor` and never a query on made-up values.
import { ApiError } from '../errors.ts';

export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** What `read` finds in the cursor's object; `invalid_cursor` when the cursor or its shape is not ours. */
export function decodeCursor<T>(cursor: string, read: (value: Record<string, unknown>) => T | null): T {
  let found: T | null = null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // A NUL in a string would reach PostgreSQL, which refuses it in text.
    const isClean = typeof value === 'object' && value !== null && !Object.values(value).some((v) => typeof v === 'string' && v.includes('\u0000'));
    if (isClean) found = read(value as Record<string, unknown>);
  } catch {
    // not JSON: refused below
  }
  if (found === null) throw new ApiError('invalid_cursor', 'cursor is not one this API issued', { details: { field: 'cursor' } });
  return found;
}

export interface Position {
  ms: number;
  id: string;
}

/**
 * A keyset position (an instant, then an id to break ties). `key` names the instant in the cursor:
 * each listing keeps the name its cursors were first issued with, so cursors held across an
 * upgrade stay valid.
 */
export function positionCursor(key: string): { encode: (ms: number, id: string) => string; decode: (cursor: string) => Position } {
  return {
    encode: (ms, id) => encodeCursor({ [key]: ms, i: id }),
    decode: (cursor) => decodeCursor(cursor, (value) => {
      const ms = value[key];
      return typeof ms === 'number' && Number.isSafeInteger(ms) && typeof value.i === 'string' ? { ms, id: value.i } : null;
    }),
  };
}
