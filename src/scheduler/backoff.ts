// Capped exponential backoff with jitter, for loops that restart and launches that retry.

function jitter(ms: number): number {
  // +-20% so that many retries started together do not stay together.
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

/** Pause before a failed background loop runs again: 0.5 s doubling to 30 s. */
export function restartDelayMs(failures: number): number {
  return jitter(Math.min(30_000, 500 * 2 ** Math.max(0, failures - 1)));
}

/** Pause before launch attempt n+1: 1 s doubling to 60 s; a meeting is only minutes away. */
export function launchRetryDelayMs(attempt: number): number {
  return jitter(Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1)));
}

/** Pause before webhook delivery attempt n+1: 5 s doubling to 1 h. */
export function webhookRetryDelayMs(attempt: number, baseMs = 5000): number {
  return jitter(Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempt - 1)));
}

/**
 * When a failed launch is tried again: at the time asked (its backoff, or the runtime's
 * Retry-After), but never after its meeting's end, where the bot fails instead; never before now.
 */
export function launchRetryAtMs(askedAtMs: number, meetingEndMs: number, nowMs: number): number {
  return Math.max(nowMs, Math.min(askedAtMs, meetingEndMs));
}
