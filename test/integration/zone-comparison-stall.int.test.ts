// The first comparison of a VTIMEZONE with the IANA zones in a process, with nothing warmed first:
// each parse runs in a fresh process (test/support/first-zone-comparison.ts) beside a stall probe
// (test/support/stall-probe.ts), whose longest busy stretch is asserted. The comparison built a
// formatter per IANA zone (about 420) in one step of the parse: 40-85 ms of the loop for a
// definition that is quick to expand, 60-100 ms for one with yearly rules from 1970, on a quiet
// machine. The engine under test plays no part; the file runs on each like the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Stall } from '../support/stall-probe.ts';

const CHILD = fileURLToPath(new URL('../support/first-zone-comparison.ts', import.meta.url));
/**
 * A definition without transitions costs next to nothing to expand, so the longest stretch is the
 * parse's own cold start: 12 ms measured, against 39-84 ms when the formatters were built in one step.
 */
const QUICK_DEFINITION_BOUND_MS = 30;
/**
 * Yearly rules from 1970 add their expansion to the comparison's step: 20-37 ms measured (36-44 ms
 * beside two processes each keeping a core busy), against 71-111 ms when the formatters were
 * built in one step. Tighter than the promise of 100 ms, which that one step kept on a quiet machine.
 */
const YEARLY_DEFINITION_BOUND_MS = 60;

async function firstComparison(...args: string[]): Promise<{ stall: Stall; events: Array<{ timeZone: string; start: string }> }> {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, ...args], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('the first VTIMEZONE compared with the IANA zones in a process builds their formatters in steps: no stretch of the parse holds the event loop for them', async () => {
  // +01:17 all year: no IANA zone has it, so every zone is compared with it.
  const quick = await firstComparison('fixed');
  console.log(`first comparison, a definition without transitions: longest busy stretch ${quick.stall.busyMs} ms (wall ${quick.stall.wallMs} ms, collector ${quick.stall.gcMs} ms)`);
  assert.deepEqual(quick.events, [{ timeZone: 'UTC', start: '2026-11-21T07:43:00.000Z' }]);
  assert.ok(quick.stall.busyMs < QUICK_DEFINITION_BOUND_MS, `held the event loop for ${quick.stall.busyMs} ms of work`);
  // The EU's rules since 1970 at +01:17/+02:17: the rules' expansion is part of the comparison's step.
  const yearly = await firstComparison('yearly');
  console.log(`first comparison, yearly rules from 1970: longest busy stretch ${yearly.stall.busyMs} ms (wall ${yearly.stall.wallMs} ms, collector ${yearly.stall.gcMs} ms)`);
  assert.deepEqual(yearly.events, [{ timeZone: 'UTC', start: '2026-11-21T07:43:00.000Z' }]);
  assert.ok(yearly.stall.busyMs < YEARLY_DEFINITION_BOUND_MS, `held the event loop for ${yearly.stall.busyMs} ms of work`);
});
