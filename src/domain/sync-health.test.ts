import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterFailedSync, afterGoodSync, failingCalendarsAfter, HEALTHY, LAST_LOOK_BEFORE_JOIN_MS, LAST_LOOK_MIN_GAP_MS, lookAgainAt, retryDelayMs, revokedCheckDelayMs } from './sync-health.ts';

const MIN = 60_000;

test('a run of failed syncs is reported once, by the first failure at least the threshold after the run began', () => {
  let health = HEALTHY;
  const reports: number[] = [];
  // Failures at the sync backoff's pace: 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 minutes.
  for (const atMin of [0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]) {
    const next = afterFailedSync(health, atMin * MIN, 15 * MIN);
    if (next.isReportDue) reports.push(atMin);
    health = next.health;
  }
  assert.deepEqual(reports, [15.5]);
  assert.deepEqual(health, { failingSince: 0, reportedAt: 15.5 * MIN });
});

test('a failure exactly at the threshold is reported; a shorter run is not', () => {
  const first = afterFailedSync(HEALTHY, 1000, 15 * MIN).health;
  assert.equal(afterFailedSync(first, 1000 + 15 * MIN - 1, 15 * MIN).isReportDue, false);
  assert.equal(afterFailedSync(first, 1000 + 15 * MIN, 15 * MIN).isReportDue, true);
  // A threshold of zero reports the first failure.
  assert.equal(afterFailedSync(HEALTHY, 1000, 0).isReportDue, true);
});

test('a good sync ends the run; the recovery is reported only when the failure was', () => {
  assert.deepEqual(afterGoodSync(HEALTHY), { health: HEALTHY, isRecoveryReported: false });
  assert.deepEqual(afterGoodSync({ failingSince: 5, reportedAt: null }), { health: HEALTHY, isRecoveryReported: false });
  assert.deepEqual(afterGoodSync({ failingSince: 5, reportedAt: 9 }), { health: HEALTHY, isRecoveryReported: true });
  // After a recovery a new run starts from its own first failure.
  assert.deepEqual(afterFailedSync(afterGoodSync({ failingSince: 5, reportedAt: 9 }).health, 100, 15 * MIN).health, { failingSince: 100, reportedAt: null });
});

test('while a run is not reported, the next attempt comes no later than when the report is due; after, the backoff alone', () => {
  const failing = { failingSince: 0, reportedAt: null };
  // Eleven minutes in, a 16-minute backoff would pass the 15-minute mark by twelve minutes.
  assert.equal(retryDelayMs(failing, 11 * MIN, 16 * MIN, 15 * MIN), 4 * MIN);
  assert.equal(retryDelayMs(failing, 1 * MIN, 2 * MIN, 15 * MIN), 2 * MIN);
  assert.equal(retryDelayMs({ failingSince: 0, reportedAt: 16 * MIN }, 20 * MIN, 32 * MIN, 15 * MIN), 32 * MIN);
  assert.equal(retryDelayMs(HEALTHY, 0, 30_000, 15 * MIN), 30_000);
  // With the backoff's jitter the report comes at the first attempt past the threshold, never an attempt later.
  for (let run = 0; run < 200; run++) {
    let health = HEALTHY;
    let now = 0;
    let failures = 0;
    for (;;) {
      const next = afterFailedSync(health, now, 15 * MIN);
      health = next.health;
      if (next.isReportDue) break;
      failures++;
      const backoff = Math.min(3_600_000, 30_000 * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4);
      now += retryDelayMs(health, now, backoff, 15 * MIN);
    }
    assert.ok(now >= 15 * MIN && now <= 15 * MIN + 1, `reported at ${now / MIN} min`);
  }
});

test('a reported run follows its calendars: one that reads again leaves the report at once, one that starts failing joins it once it has failed for the threshold', () => {
  const all = ['a', 'b', 'c'];
  const onlyA = { calendars: ['a'], pending: {} };
  const after = (reported: Parameters<typeof failingCalendarsAfter>[0], failing: string[] | null, atMin: number, added?: Set<string>) => failingCalendarsAfter(reported, failing, all, atMin * MIN, 15 * MIN, added);
  // Nothing changed.
  assert.deepEqual(after(onlyA, ['a'], 20), { ends: false, next: onlyA, joined: [], joinedSince: null, readAgain: [] });
  // B starts failing: noted, not reported before it has failed for 15 minutes.
  const pending = after(onlyA, ['a', 'b'], 20);
  assert.deepEqual(pending, { ends: false, next: { calendars: ['a'], pending: { b: 20 * MIN } }, joined: [], joinedSince: null, readAgain: [] });
  assert.ok(!pending.ends);
  assert.deepEqual(after(pending.next, ['a', 'b'], 35 - 1 / 60_000), { ...pending });
  assert.deepEqual(after(pending.next, ['a', 'b'], 35), { ends: false, next: { calendars: ['a', 'b'], pending: {} }, joined: ['b'], joinedSince: 20 * MIN, readAgain: [] });
  // B reads again before that: forgotten, a later failure of it waits its own 15 minutes.
  const blip = after(pending.next, ['a'], 25);
  assert.ok(!blip.ends);
  assert.deepEqual(blip.next, onlyA);
  assert.deepEqual(after(blip.next, ['a', 'b'], 36), { ends: false, next: { calendars: ['a'], pending: { b: 36 * MIN } }, joined: [], joinedSince: null, readAgain: [] });
  // Each calendar has its own clock: an outage that begins while B waits does not join with B.
  const outage = after(pending.next, null, 30);
  assert.ok(!outage.ends);
  assert.deepEqual(outage.next, { calendars: ['a'], pending: { b: 20 * MIN, c: 30 * MIN } });
  const bJoins = after(outage.next, null, 35);
  assert.deepEqual(bJoins, { ends: false, next: { calendars: ['a', 'b'], pending: { c: 30 * MIN } }, joined: ['b'], joinedSince: 20 * MIN, readAgain: [] });
  assert.ok(!bJoins.ends);
  // Once C has failed 15 minutes too, the report is the whole account's.
  assert.deepEqual(after(bJoins.next, null, 45), { ends: false, next: { calendars: null, pending: {} }, joined: ['c'], joinedSince: 30 * MIN, readAgain: [] });
  // A reported outage that ends while A still fails: B and C read again, at once.
  assert.deepEqual(after({ calendars: null, pending: {} }, ['a'], 60), { ends: false, next: onlyA, joined: [], joinedSince: null, readAgain: ['b', 'c'] });
  // A calendar no longer synced is neither failing nor read again.
  assert.deepEqual(after({ calendars: ['a', 'gone'], pending: {} }, ['a'], 20), { ends: false, next: onlyA, joined: [], joinedSince: null, readAgain: [] });
  // A report of the whole account did not cover a calendar added since: its failure waits its 15 minutes.
  // (Here the others read again, so the report ends and C's failure starts a run of its own.)
  assert.deepEqual(after({ calendars: null, pending: {} }, ['c'], 60, new Set(['c'])), { ends: true, failingSince: 60 * MIN, stillFailing: ['c'], readAgain: ['a', 'b'] });
  assert.deepEqual(after({ calendars: null, pending: {} }, ['a', 'c'], 60, new Set(['c'])), { ends: false, next: { calendars: ['a'], pending: { c: 60 * MIN } }, joined: [], joinedSince: null, readAgain: ['b'] });
  // An outage after such a calendar was added: once it joins, the report names every calendar
  // rather than the whole connection, so the next sync does not take it for a newcomer again.
  const joinedLate = after({ calendars: null, pending: { c: 60 * MIN } }, null, 75, new Set(['c']));
  assert.deepEqual(joinedLate, { ends: false, next: { calendars: ['a', 'b', 'c'], pending: {} }, joined: ['c'], joinedSince: 60 * MIN, readAgain: [] });
  assert.ok(!joinedLate.ends);
  assert.deepEqual(after(joinedLate.next, null, 90, new Set(['c'])), { ends: false, next: joinedLate.next, joined: [], joinedSince: null, readAgain: [] });
  // An id that is also an Object property name is a calendar like any other.
  assert.deepEqual(after({ calendars: ['a'], pending: {} }, ['a', 'constructor'], 20).ends, false);
  assert.deepEqual(failingCalendarsAfter({ calendars: ['a'], pending: {} }, ['a', 'constructor'], ['a', 'constructor'], 20 * MIN, 15 * MIN),
    { ends: false, next: { calendars: ['a'], pending: { constructor: 20 * MIN } }, joined: [], joinedSince: null, readAgain: [] });
});

test('a report whose calendars all read again, while others fail too briefly to report, ends: those start a run of their own', () => {
  const change = failingCalendarsAfter({ calendars: ['a'], pending: { b: 20 * MIN } }, ['b'], ['a', 'b'], 30 * MIN, 15 * MIN);
  assert.deepEqual(change, { ends: true, failingSince: 20 * MIN, stillFailing: ['b'], readAgain: ['a'] });
  // That run is reported once B has failed 15 minutes, like any other.
  assert.equal(afterFailedSync({ failingSince: 20 * MIN, reportedAt: null }, 35 * MIN, 15 * MIN).isReportDue, true);
});

test('once a run is reported, the next attempt comes no later than when a calendar waiting to join it is due', () => {
  const reported = { failingSince: 0, reportedAt: 16 * MIN };
  assert.equal(retryDelayMs(reported, 40 * MIN, 60 * MIN, 15 * MIN, 40 * MIN), 15 * MIN);
  assert.equal(retryDelayMs(reported, 50 * MIN, 60 * MIN, 15 * MIN, 40 * MIN), 5 * MIN);
  assert.equal(retryDelayMs(reported, 50 * MIN, 2 * MIN, 15 * MIN, 40 * MIN), 2 * MIN);
  assert.equal(retryDelayMs(reported, 50 * MIN, 60 * MIN, 15 * MIN, null), 60 * MIN);
});

test('a calendar Rollcall cannot see is read again shortly before the first join time that needs it, never sooner than the gap', () => {
  const HOUR = 60 * MIN;
  // No bot needs it: the backoff or the hourly probe stands.
  assert.equal(lookAgainAt(0, HOUR, null), HOUR);
  // A join time three hours off leaves the hour as it is; one 40 minutes off brings the look to 38 minutes.
  assert.equal(lookAgainAt(0, HOUR, 3 * HOUR), HOUR);
  assert.equal(lookAgainAt(0, HOUR, 40 * MIN), 40 * MIN - LAST_LOOK_BEFORE_JOIN_MS);
  // Exactly at the planned time, or earlier than planned only.
  assert.equal(lookAgainAt(0, 5 * MIN, 40 * MIN), 5 * MIN);
  // A join time within the lead: as soon as the gap allows, still before it.
  assert.equal(lookAgainAt(10 * MIN, HOUR, 11 * MIN), 10 * MIN + LAST_LOOK_MIN_GAP_MS);
  // A bot provider's handover lead comes first: the look is that much earlier.
  assert.equal(lookAgainAt(0, HOUR, 40 * MIN, 17 * MIN), 23 * MIN);
  for (let join = 0; join < 3 * HOUR; join += 7_001) {
    const at = lookAgainAt(0, HOUR, join);
    assert.ok(at >= LAST_LOOK_MIN_GAP_MS && at <= HOUR, String(join));
    if (join - LAST_LOOK_BEFORE_JOIN_MS >= LAST_LOOK_MIN_GAP_MS && join - LAST_LOOK_BEFORE_JOIN_MS <= HOUR) assert.equal(at, join - LAST_LOOK_BEFORE_JOIN_MS);
  }
});

test('a connection that lost its access is checked hourly on its first day, every six hours in its first week, then daily', () => {
  const HOUR = 3_600_000;
  assert.equal(revokedCheckDelayMs(0), HOUR);
  assert.equal(revokedCheckDelayMs(24 * HOUR - 1), HOUR);
  assert.equal(revokedCheckDelayMs(24 * HOUR), 6 * HOUR);
  assert.equal(revokedCheckDelayMs(7 * 24 * HOUR - 1), 6 * HOUR);
  assert.equal(revokedCheckDelayMs(7 * 24 * HOUR), 24 * HOUR);
  assert.equal(revokedCheckDelayMs(365 * 24 * HOUR), 24 * HOUR);
});
