// Long work done on the main thread (parsing a big feed, reconciling hundreds of bots) calls
// `pace()` between its steps. The pacer gives the event loop a turn (setImmediate: timers, I/O
// and other requests run) once a slice of `sliceMs` has been used since the last turn, so no
// single stretch of that work holds the loop much longer than a slice, and work that finishes
// within one slice never waits at all.
//
// Real time on purpose: this bounds how long the process is unresponsive, which only the
// wall clock measures; it changes no result, so tests on a ManualClock are unaffected.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Default slice: well under the 100 ms the service promises as its longest stall. */
export const DEFAULT_SLICE_MS = 20;

export class EventLoopPacer {
  readonly #sliceMs: number;
  #sliceStart = performance.now();
  #turns = 0;

  constructor(sliceMs = DEFAULT_SLICE_MS) {
    this.#sliceMs = sliceMs;
  }

  /** Yields to the event loop when the current slice is used up; otherwise returns at once. */
  async pace(): Promise<void> {
    if (performance.now() - this.#sliceStart < this.#sliceMs) return;
    await nextTurn();
    this.#turns++;
    this.#sliceStart = performance.now();
  }

  /** How many times the work gave the loop a turn (for logs and tests). */
  get turns(): number {
    return this.#turns;
  }
}
