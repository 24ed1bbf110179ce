// What to do when a transaction lost a race with a concurrent one: run it again. The partial unique
// indexes (one live bot per key, one live link per event) make the loser fail; its next attempt
// sees the winner's committed row and takes the update-or-share path instead.

const MAX_ATTEMPTS = 5;

/**
 * A PostgreSQL deadlock (40P01) or serialization failure (40001): the transaction was rolled back
 * as a whole and can simply run again.
 */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown } | null;
  if (!e) return false;
  // PostgreSQL unique_violation, and node:sqlite's constraint error.
  return e.code === '23505' || (typeof e.message === 'string' && /UNIQUE constraint failed/.test(e.message));
}

/**
 * Runs `transaction` again, up to five attempts in all, while PostgreSQL rolls it back for a
 * deadlock or a serialization failure (a unique violation is an answer here, not a race to retry).
 */
export function retryingConflicts<T>(transaction: () => Promise<T>): Promise<T> {
  return retrying(transaction, isTransientConflict);
}

/** Runs `transaction` again, up to five attempts in all, while it fails by losing a race. */
export function retryingLostRaces<T>(transaction: () => Promise<T>): Promise<T> {
  return retrying(transaction, (error) => isUniqueViolation(error) || isTransientConflict(error));
}

async function retrying<T>(transaction: () => Promise<T>, isWorthAnotherTry: (error: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt < MAX_ATTEMPTS && isWorthAnotherTry(error)) continue;
      throw error;
    }
  }
}
