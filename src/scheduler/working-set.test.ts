import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkingSet } from './working-set.ts';
import type { Claimed } from './launch-preparation.ts';

const LEASE = 30_000;

function entry(id: string, dueAtMs: number, extra: Partial<Claimed> = {}): Claimed {
  return { scheduleId: id, botId: `bot_${id}`, dueAtMs, leaseUntilMs: dueAtMs + LEASE, isTakeover: false, ready: null, ...extra };
}

test('held rows come out at their due time, earliest first, each once', () => {
  const rows = new WorkingSet();
  rows.hold(entry('b', 200), 200 + LEASE);
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.hold(entry('c', 300), 300 + LEASE);
  assert.equal(rows.nextDueAt(), 100);
  assert.deepEqual(rows.takeDue(250, 10).map((c) => c.scheduleId), ['a', 'b']);
  assert.deepEqual(rows.takeDue(250, 10), []);
  assert.equal(rows.nextDueAt(), 300);
});

test('a row claimed again (moved) replaces its earlier entry', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.hold(entry('a', 5000), 5000 + LEASE);
  assert.equal(rows.nextDueAt(), 5000);
  assert.deepEqual(rows.takeDue(1000, 10), []);
  assert.equal(rows.takeDue(5000, 10)[0]!.dueAtMs, 5000);
});

test('a row moved and claimed again while its batch is decided: held, and still held after the batch drops the old entry', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  const [deciding] = rows.takeDue(100, 10);
  // The claim statement returns it afresh ('claimed') while the confirmation runs.
  assert.ok(rows.accepts({ id: 'a', state: 'claimed' }));
  rows.hold(entry('a', 3000), 3000 + LEASE);
  // The confirmation did not find it claimed and due: dropped.
  rows.settled(deciding!.scheduleId);
  assert.equal(rows.nextDueAt(), 3000);
  assert.deepEqual(rows.leasesToRenew(3000 + LEASE - 1, LEASE), ['a']);
});

test('a row being sent is not taken over by its own dispatcher when its lease runs out', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.takeDue(100, 10);
  assert.ok(!rows.accepts({ id: 'a', state: 'launching' }), 'taken over while being decided');
  rows.sending(['a'], 100 + LEASE);
  assert.ok(!rows.accepts({ id: 'a', state: 'launching' }), 'taken over while being sent');
  rows.resultWritten('a');
  assert.ok(rows.accepts({ id: 'a', state: 'launching' }), 'a row no longer worked on is taken over like any other');
  assert.equal(rows.size, 0);
});

test('an entry held for a row that is then sent is stale: dropped from the timer, and never a takeover', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.takeDue(100, 10);
  // Claimed again meanwhile (moved earlier), then the batch's slow path launched it from fresh data.
  rows.hold(entry('a', 50), 50 + LEASE);
  rows.sending(['a'], 120 + LEASE);
  assert.equal(rows.nextDueAt(), undefined);
  // The same stale claim reaching the timer after the launch went out: held, but its decision
  // (after a failure, say) may not take the row over while it is being sent.
  rows.hold(entry('a', 50), 50 + LEASE);
  rows.holdAfterFailure(rows.takeDue(200, 10));
  const [again] = rows.takeDue(200, 10);
  assert.equal(again!.mayBeLaunching, true);
  assert.ok(!rows.mayTakeOver(again!));
  // Dropped by its decision: the row is still being sent, so its lease is still renewed.
  rows.settled('a');
  assert.deepEqual(rows.leasesToRenew(120 + LEASE - 1, LEASE), ['a']);
  rows.resultWritten('a');
  assert.equal(rows.size, 0);
});

test('rows whose decision failed are held again, marked as possibly launched; a newer claim of one is kept', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.hold(entry('b', 100), 100 + LEASE);
  const batch = rows.takeDue(100, 10);
  rows.hold(entry('b', 900), 900 + LEASE);
  rows.holdAfterFailure(batch);
  const again = rows.takeDue(1000, 10);
  assert.deepEqual(again.map((c) => [c.scheduleId, c.dueAtMs, c.mayBeLaunching]), [['a', 100, true], ['b', 900, true]]);
  assert.ok(again.every((c) => rows.mayTakeOver(c)));
  assert.ok(!rows.mayTakeOver(entry('c', 100)), 'a plain claim needs its claimed -> launching change');
});

test('a row a request holds is tried again shortly, unless claimed anew meanwhile', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.hold(entry('b', 100), 100 + LEASE);
  const [a, b] = rows.takeDue(100, 10);
  rows.hold(entry('b', 4000), 4000 + LEASE);
  rows.holdLater(a!, 105);
  rows.holdLater(b!, 105);
  assert.deepEqual(rows.takeDue(200, 10).map((c) => [c.scheduleId, c.dueAtMs]), [['a', 105]]);
  assert.equal(rows.nextDueAt(), 4000);
});

test('leases: a renewal is noted only for rows still worked on; a result written after a retry claim keeps the row', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.takeDue(100, 10);
  rows.sending(['a'], 100 + LEASE);
  rows.renewed('a', 20_000 + LEASE);
  rows.renewed('gone', 20_000 + LEASE);
  assert.deepEqual(rows.leasesToRenew(20_000 + 1, LEASE), []);
  // The launch failed and was put back to pending for a retry, which a claim took before the
  // result's bookkeeping ran: the row stays worked on.
  rows.hold(entry('a', 21_000), 21_000 + LEASE);
  rows.resultWritten('a');
  assert.equal(rows.size, 1);
  assert.equal(rows.nextDueAt(), 21_000);
  rows.dropHeld();
  assert.equal(rows.size, 0);
  assert.equal(rows.nextDueAt(), undefined);
});

test('two launches of one row at once (a retry sent before the first result was written): the row stays sent until both are written', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.takeDue(100, 10);
  rows.sending(['a'], 100 + LEASE);
  rows.hold(entry('a', 2000), 2000 + LEASE);
  rows.takeDue(2000, 10);
  rows.sending(['a'], 2000 + LEASE);
  rows.resultWritten('a');
  assert.ok(rows.isSending('a'));
  assert.ok(!rows.accepts({ id: 'a', state: 'launching' }));
  rows.resultWritten('a');
  assert.ok(!rows.isSending('a'));
  assert.equal(rows.size, 0);
});

test('a claim held for a row being sent never makes its known lease later than the launch\'s', () => {
  // With a 30 s lease, a heartbeat renews what runs out within 20 s.
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.takeDue(100, 10);
  rows.sending(['a'], 1000 + LEASE);
  rows.hold(entry('a', 90), 50_000 + LEASE);
  assert.deepEqual(rows.leasesToRenew(1000 + LEASE - 20_000 + 1, LEASE), ['a']);
  // Not being sent: a new claim's lease is what the database holds.
  const other = new WorkingSet();
  other.hold(entry('b', 100), 100 + LEASE);
  other.hold(entry('b', 50_000), 50_000 + LEASE);
  assert.deepEqual(other.leasesToRenew(100 + LEASE - 20_000 + 1, LEASE), []);
});

test('each failed decision of a row counts, and the row waits where it is told', () => {
  const rows = new WorkingSet();
  rows.hold(entry('a', 100), 100 + LEASE);
  rows.holdAfterFailure(rows.takeDue(100, 10), 600);
  assert.deepEqual(rows.takeDue(599, 10), []);
  const [again] = rows.takeDue(600, 10);
  assert.equal(again!.failures, 1);
  rows.holdAfterFailure([again!], 1600);
  assert.equal(rows.takeDue(1600, 10)[0]!.failures, 2);
});
