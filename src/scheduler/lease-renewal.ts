// Which of the rows a dispatcher works on need their lease renewed at a heartbeat. Pure: the
// dispatcher keeps, per row, the end of the last lease it wrote, and asks this at every heartbeat.
//
// A row is renewed only when its lease would otherwise run out within two heartbeats, so a
// heartbeat may come almost a whole interval late before any lease runs out. Rows claimed ahead
// hold a lease to their due time plus a whole lease, and launches one from their confirmation, so
// a burst's rows are not written again while they go out (renewing every held row cost 70 ms of
// SQLite's thread per 10,000 rows, and a heartbeat that fell inside a burst held every launch not
// yet sent). Only rows held long past their due time (a long burst, a bot a request keeps busy, a
// result the database has not taken yet) are renewed.

/** How often a dispatcher's heartbeat looks at its leases: a third of a lease, at least a second. */
export function heartbeatIntervalMs(leaseMs: number): number {
  return Math.max(1000, Math.floor(leaseMs / 3));
}

/** The rows whose lease ends within two heartbeats of `nowMs`. */
export function leasesToRenew(leaseEnds: ReadonlyMap<string, number>, nowMs: number, leaseMs: number): string[] {
  const renewBefore = nowMs + 2 * heartbeatIntervalMs(leaseMs);
  const ids: string[] = [];
  for (const [id, leaseUntilMs] of leaseEnds) if (leaseUntilMs < renewBefore) ids.push(id);
  return ids;
}
