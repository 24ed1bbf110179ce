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
