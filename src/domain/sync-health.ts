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
export function retryDelayMs(health: SyncHealth, nowMs: number, backoffMs: number, reportAfterMs: number, wideningSinceMs: number | null = null): number {
  // Once reported, a widening of the report (failingCalendarsAfter) is due the same way.
  const pendingSince = health.reportedAt === null ? health.failingSince : wideningSinceMs;
  if (pendingSince === null) return backoffMs;
  return Math.max(0, Math.min(backoffMs, pendingSince + reportAfterMs - nowMs));
}

/**
 * Which calendars a reported run is about (provider ids; null: the whole connection, every one of
 * its calendars) and since when calendars outside them fail too (null: none do).
 */
export interface ReportedCalendars {
  calendars: readonly string[] | null;
  wideningSince: number | null;
}

/** What a later failed sync of a reported run changes: the calendars to report now, and whose bots hear what. */
export interface ReportedCalendarsChange {
  next: ReportedCalendars;
  /** Calendars that fail now and were not reported: their bots hear that they launch as last synced. */
  newlyFailing: string[];
  /** Calendars of the report that read again: their bots hear that they follow the calendar again. */
  readAgain: string[];
}

/**
 * A failed sync in a run already reported, which found `failing` failing (provider ids; null: the
 * whole connection failed, an outage or a limit) among `all`, the connection's calendars. The
 * report follows the calendars that fail: one that reads again leaves it at once (good news needs
 * no wait), while calendars that start failing join it only once they have failed for
 * `reportAfterMs`, as a run is reported only once it has lasted that long, so that a short outage
 * in a long run does not tell every bot of the account that its calendar stopped syncing.
 */
export function failingCalendarsAfter(reported: ReportedCalendars, failing: readonly string[] | null, all: readonly string[], nowMs: number, reportAfterMs: number): ReportedCalendarsChange {
  const was = new Set(reported.calendars ?? all);
  const now = new Set(failing ?? all);
  const newlyFailing = all.filter((id) => now.has(id) && !was.has(id));
  const readAgain = all.filter((id) => was.has(id) && !now.has(id));
  if (newlyFailing.length === 0) return { next: { calendars: failing, wideningSince: null }, newlyFailing, readAgain };
  const wideningSince = reported.wideningSince ?? nowMs;
  if (nowMs - wideningSince >= reportAfterMs) return { next: { calendars: failing, wideningSince: null }, newlyFailing, readAgain };
  // Not yet: the report keeps the calendars of it that still fail.
  return { next: { calendars: all.filter((id) => was.has(id) && now.has(id)), wideningSince }, newlyFailing: [], readAgain };
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
