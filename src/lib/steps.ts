// Work written as steps: a generator that yields (nothing) between bounded pieces of work and
// returns its result. The same work runs at once where a caller has no event loop to share
// (finishSteps), or with the loop's turns between its steps (paceSteps).
import type { EventLoopPacer } from './event-loop-pacer.ts';

/** Runs `steps` to their end at once and answers their result. */
export function finishSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Runs `steps` to their end, letting `pacer` give the event loop a turn between them. */
export async function paceSteps<T>(steps: Generator<void, T>, pacer: EventLoopPacer): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pacer.pace();
  }
}
