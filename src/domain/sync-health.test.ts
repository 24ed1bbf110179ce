import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterFailedSync, afterGoodSync, HEALTHY } from './sync-health.ts';

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
