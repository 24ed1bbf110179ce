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

/** Lets any stretch an earlier test left end (the stretch is the process's). */
async function endStretch(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

test('loops run one after another without the loop turning share one slice: a new pacer does not start afresh', async () => {
  await endStretch();
  const first = new EventLoopPacer(100);
  await first.pace();
  busy(30);
  await first.pace();
  assert.equal(first.turns, 0, 'within its slice');
  const second = new EventLoopPacer(100);
  busy(80);
  await second.pace();
  assert.equal(second.turns, 1, 'the stretch began with the first loop, 110 ms ago');
});

test('a turn of the loop by other means starts a new stretch', async () => {
  await endStretch();
  const pacer = new EventLoopPacer(10);
  await pacer.pace();
  busy(6);
  // Awaiting I/O whose answer comes through the check phase (as a commit queued by setImmediate does).
  await new Promise((resolve) => setImmediate(resolve));
  busy(6);
  await pacer.pace();
  assert.equal(pacer.turns, 0, 'the timer turned the loop between the two halves');
});

test('paced works running side by side share the stretch: together they hold the loop about one slice, not one each', async () => {
  await endStretch();
  // Counted in steps of work between two runs of a timer, not in milliseconds: a busy machine that
  // deschedules the process makes a stretch longer in time but never gives it more steps.
  let stepsSinceTick = 0;
  let mostSteps = 0;
  const timer = setInterval(() => {
    mostSteps = Math.max(mostSteps, stepsSinceTick);
    stepsSinceTick = 0;
  }, 1);
  const work = async () => {
    const pacer = new EventLoopPacer(10);
    for (let i = 0; i < 40; i++) {
      busy(2);
      stepsSinceTick++;
      await pacer.pace();
    }
  };
  try {
    await Promise.all([work(), work(), work(), work(), work(), work()]);
  } finally {
    clearInterval(timer);
  }
  // One 10 ms stretch holds about five 2 ms steps; six works each starting a stretch of their own
  // would run about thirty between two ticks.
  assert.ok(mostSteps <= 12, `${mostSteps} steps of work ran between two turns of the loop`);
});
