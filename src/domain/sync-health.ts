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
export function retryDelayMs(health: SyncHealth, nowMs: number, backoffMs: number, reportAfterMs: number, firstPendingMs: number | null = null): number {
  // Once reported, a calendar joining the report (failingCalendarsAfter) is due the same way.
  const pendingSince = health.reportedAt === null ? health.failingSince : firstPendingMs;
  if (pendingSince === null) return backoffMs;
  return Math.max(0, Math.min(backoffMs, pendingSince + reportAfterMs - nowMs));
}

const HOUR_MS = 3_600_000;

/**
 * The wait before the next check of a connection that lost its access `revokedForMs` ago: hourly
 * on its first day (access given back in the provider's console, a feed put back in place), every
 * six hours for the rest of its first week, then daily. An account left revoked longer is seldom
 * given back without being connected again, which restores it at once; a connection probed hourly
 * for ever would cost a token request an hour each. The bots on its meetings are not kept waiting
 * by this: each gets a look before its join time of its own.
 */
export function revokedCheckDelayMs(revokedForMs: number): number {
  if (revokedForMs < 24 * HOUR_MS) return HOUR_MS;
  if (revokedForMs < 7 * 24 * HOUR_MS) return 6 * HOUR_MS;
  return 24 * HOUR_MS;
}

/** Which calendars a reported run is about, and which fail outside it, not reported yet. */
export interface ReportedCalendars {
  /** Provider ids; null: the whole connection. */
  calendars: readonly string[] | null;
  /** Each calendar failing outside the report, since the first failed sync that saw it fail. */
  pending: Readonly<Record<string, number>>;
}

/** What a later failed sync of a reported run changes. */
export type ReportedCalendarsChange =
  | {
    ends: false;
    next: ReportedCalendars;
    /** Calendars that join the report now: their bots hear that they launch as last synced. */
    joined: string[];
    /** Since when the first of them fails; null when none joins. */
    joinedSince: number | null;
    /** Calendars of the report that read again: their bots hear that they follow the calendar again. */
    readAgain: string[];
  }
  | {
    /** Every calendar of the report reads again, while others fail too briefly to report: the report ends, and they start a run of their own. */
    ends: true;
    /** When that run began: the first of them to fail. */
    failingSince: number;
    /** Those calendars. */
    stillFailing: string[];
    readAgain: string[];
  };

/**
 * A failed sync in a run already reported, which found `failing` failing (provider ids; null: the
 * whole connection failed, an outage or a limit) among `all`, the connection's calendars
 * (`addedSinceReport`: those added after the report, which a report of the whole connection did
 * not cover). The report follows the calendars that fail: one that reads again leaves it at once
 * (good news needs no wait), while a calendar that starts failing joins it only once it has failed
 * for `reportAfterMs`, counted for each calendar from the first sync that saw it fail, as a run is
 * reported only once it has lasted that long: a short outage in a long run tells no bot that its
 * calendar stopped syncing.
 */
export function failingCalendarsAfter(reported: ReportedCalendars, failing: readonly string[] | null, all: readonly string[], nowMs: number, reportAfterMs: number,
  addedSinceReport: ReadonlySet<string> = new Set()): ReportedCalendarsChange {
  const was = new Set(reported.calendars ?? all.filter((id) => !addedSinceReport.has(id)));
  const now = new Set(failing ?? all);
  const readAgain = all.filter((id) => was.has(id) && !now.has(id));
  const outside = all.filter((id) => now.has(id) && !was.has(id));
  const sinceOf = (id: string) => (Object.hasOwn(reported.pending, id) ? reported.pending[id]! : nowMs);
  const joined = outside.filter((id) => nowMs - sinceOf(id) >= reportAfterMs);
  const waiting = outside.filter((id) => nowMs - sinceOf(id) < reportAfterMs);
  const stillReported = all.filter((id) => was.has(id) && now.has(id));
  if (stillReported.length === 0 && joined.length === 0 && waiting.length > 0) {
    return { ends: true, failingSince: Math.min(...waiting.map(sinceOf)), stillFailing: waiting, readAgain };
  }
  // Null (the whole connection) only while it names no calendar added after the report, which a
  // later sync would read as outside it again.
  const isWhole = failing === null && waiting.length === 0 && !all.some((id) => addedSinceReport.has(id));
  const calendars = isWhole ? null : all.filter((id) => was.has(id) ? now.has(id) : joined.includes(id));
  return {
    ends: false,
    next: { calendars, pending: Object.fromEntries(waiting.map((id) => [id, sinceOf(id)])) },
    joined,
    joinedSince: joined.length === 0 ? null : Math.min(...joined.map(sinceOf)),
    readAgain,
  };
}

/** The first failure of the calendars waiting to join a report; null: none waits. */
export function firstPendingFailure(reported: ReportedCalendars): number | null {
  const since = Object.values(reported.pending);
  return since.length === 0 ? null : Math.min(...since);
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
