import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heartbeatIntervalMs, leasesToRenew } from './lease-renewal.ts';

const LEASE_MS = 30_000;
const BEAT_MS = heartbeatIntervalMs(LEASE_MS);

test('a third of a lease between heartbeats, never under a second', () => {
  assert.equal(heartbeatIntervalMs(30_000), 10_000);
  assert.equal(heartbeatIntervalMs(2_000), 1_000);
});

test('rows of a burst claimed ahead are left alone; rows held past their due time are renewed', () => {
  const now = 1_000_000;
  const leases = new Map([
    // Claimed 10 s ahead: leased to its due time plus a lease.
    ['claimed-ahead', now + 10_000 + LEASE_MS],
    // Confirmed just now and in flight.
    ['launching', now + LEASE_MS],
    // Claimed long ago, still held (a bot a request keeps busy): two heartbeats or less remain.
    ['held-long', now + 2 * BEAT_MS - 1],
    ['lease-over', now - 5],
  ]);
  assert.deepEqual(leasesToRenew(leases, now, LEASE_MS), ['held-long', 'lease-over']);
});

test('with heartbeats up to almost an interval late, a lease renewed by this rule never runs out', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let row = 0; row < 200; row++) {
    let now = 0;
    // Claimed with a due time anywhere in the next 12 s.
    let leaseEnd = Math.floor(random() * 12_000) + LEASE_MS;
    for (let beat = 0; beat < 100; beat++) {
      now += BEAT_MS + Math.floor(random() * (BEAT_MS - 1));
      assert.ok(leaseEnd > now, `row ${row}: lease ended at ${leaseEnd}, heartbeat at ${now}`);
      if (leasesToRenew(new Map([['r', leaseEnd]]), now, LEASE_MS).length > 0) {
        leaseEnd = now + LEASE_MS;
      }
    }
  }
});

test('with heartbeats on time, a row held for long is written at every other heartbeat, not at each', () => {
  let now = 0;
  let leaseEnd = LEASE_MS;
  let renewals = 0;
  for (let beat = 0; beat < 100; beat++) {
    now += BEAT_MS;
    assert.ok(leaseEnd > now);
    if (leasesToRenew(new Map([['r', leaseEnd]]), now, LEASE_MS).length > 0) {
      leaseEnd = now + LEASE_MS;
      renewals++;
    }
  }
  assert.equal(renewals, 50);
});
