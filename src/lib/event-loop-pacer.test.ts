import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoopPacer } from './event-loop-pacer.ts';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // burn the slice
  }
}

test('work shorter than a slice never yields; longer work lets a timer run between slices', async () => {
  const quick = new EventLoopPacer(50);
  for (let i = 0; i < 100; i++) await quick.pace();
  assert.equal(quick.turns, 0);

  const pacer = new EventLoopPacer(10);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    for (let i = 0; i < 10; i++) {
      busy(6);
      await pacer.pace();
    }
  } finally {
    clearInterval(timer);
  }
  assert.ok(pacer.turns >= 4, `${pacer.turns} turns`);
  assert.ok(ticks >= 1, 'the timer ran while the work was going on');
});

test('loops run one after another without the loop turning share one slice: a new pacer does not start afresh', async () => {
  // Let any stretch an earlier test left end.
  await new Promise((resolve) => setImmediate(resolve));
  const first = new EventLoopPacer(10);
  await first.pace();
  busy(8);
  await first.pace();
  assert.equal(first.turns, 0, 'within its slice');
  const second = new EventLoopPacer(10);
  busy(4);
  await second.pace();
  assert.equal(second.turns, 1, 'the stretch began with the first loop, 12 ms ago');
});

test('a turn of the loop by other means starts a new stretch', async () => {
  const pacer = new EventLoopPacer(10);
  await pacer.pace();
  busy(6);
  // Awaiting I/O whose answer comes through the check phase (as a commit queued by setImmediate does).
  await new Promise((resolve) => setImmediate(resolve));
  busy(6);
  await pacer.pace();
  assert.equal(pacer.turns, 0, 'the timer turned the loop between the two halves');
});
