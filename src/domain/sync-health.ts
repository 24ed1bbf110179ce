// When a calendar connection whose syncs keep failing is reported as failing, and when as
// syncing again. A connection that lost its access (auth_revoked) has its own, stronger rule
// (spec section 12); this one covers every other failure: the provider down, a feed serving an
// error page, a rate limit that does not lift. Such a connection keeps its events and bots as
// last seen, so its bots would launch on data that grows older each hour: the client is told once
// the failure has lasted long enough to matter, and told again when a sync works.

/** What is stored about a connection's run of failed syncs. */
export interface SyncHealth {
  /** When the first failed sync after the last good one happened; null: the last sync worked. */
  failingSince: number | null;
  /** When the failure was reported (connection webhook sent); null: not reported. */
  reportedAt: number | null;
}

export const HEALTHY: SyncHealth = Object.freeze({ failingSince: null, reportedAt: null });

/** A sync failed at `nowMs`: the new state, and whether this failure is the one to report. */
export function afterFailedSync(health: SyncHealth, nowMs: number, reportAfterMs: number): { health: SyncHealth; isReportDue: boolean } {
  const failingSince = health.failingSince ?? nowMs;
  const isReportDue = health.reportedAt === null && nowMs - failingSince >= reportAfterMs;
  return { health: { failingSince, reportedAt: isReportDue ? nowMs : health.reportedAt }, isReportDue };
}

/** A sync worked: the state is healthy again; the recovery is reported when the failure was. */
export function afterGoodSync(health: SyncHealth): { health: SyncHealth; isRecoveryReported: boolean } {
  return { health: HEALTHY, isRecoveryReported: health.reportedAt !== null };
}

/**
 * The wait before the next attempt after a failed one: the backoff, cut short while the run is
 * not reported yet so that an attempt comes when the report is due (the jittered backoff alone
 * would often let it slip to the attempt after, half an hour in).
 */
export function retryDelayMs(health: SyncHealth, nowMs: number, backoffMs: number, reportAfterMs: number): number {
  if (health.failingSince === null || health.reportedAt !== null) return backoffMs;
  return Math.max(0, Math.min(backoffMs, health.failingSince + reportAfterMs - nowMs));
}

/** How long before a bot's join time a calendar Rollcall cannot see is read one last time (more with a bot provider: its handover lead). */
export const LAST_LOOK_BEFORE_JOIN_MS = 2 * 60_000;
/** The shortest wait between two such looks. */
export const LAST_LOOK_MIN_GAP_MS = 30_000;

/**
 * When to read again a calendar (or probe a connection) Rollcall cannot see, which a bot needs:
 * at `plannedMs` (its backoff, or the hourly probe of a revoked connection), or earlier, `leadMs`
 * before the first join time that depends on it, so that access given back in the meantime still
 * launches that bot rather than letting the backoff run past its join time. `firstJoinMs`: the
 * earliest join time of a scheduled bot on its meetings whose look is still ahead (later than
 * `nowMs + leadMs`: one look per join time), or null. Looks come at least LAST_LOOK_MIN_GAP_MS
 * apart, however close the join times.
 */
export function lookAgainAt(nowMs: number, plannedMs: number, firstJoinMs: number | null, leadMs: number = LAST_LOOK_BEFORE_JOIN_MS): number {
  if (firstJoinMs === null) return plannedMs;
  return Math.min(plannedMs, Math.max(firstJoinMs - leadMs, nowMs + LAST_LOOK_MIN_GAP_MS));
}
