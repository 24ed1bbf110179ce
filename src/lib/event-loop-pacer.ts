// Long work done on the main thread (parsing a big feed, reconciling hundreds of bots) calls
// `pace()` between its steps. The pacer gives the event loop a turn (setImmediate: timers, I/O
// and other requests run) once a slice of `sliceMs` has been used since the loop last turned, so
// no single stretch of that work holds the loop much longer than a slice, and work that finishes
// within one slice never waits at all.
//
// The stretch is the process's, not one pacer's: one request often runs several paced loops back
// to back without the loop turning in between (a change's reconciliation, then the top-up of the
// series it moved), and each starting a slice of its own would add their slices up. So every
// pacer measures from the same instant: the first pace() since the loop last turned, which a
// check-phase callback armed at that first call notices (whether the turn came from a pacer or
// from the work awaiting I/O).
//
// Real time on purpose: this bounds how long the process is unresponsive, which only the
// wall clock measures; it changes no result, so tests on a ManualClock are unaffected.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Default slice: well under the 100 ms the service promises as its longest stall. */
export const DEFAULT_SLICE_MS = 10;

/** When the current stretch began (performance.now()); meaningful while `isInStretch`. */
let stretchStart = 0;
/** True from a stretch's first pace() until the event loop next reaches its check phase. */
let isInStretch = false;

function loopTurned(): void {
  isInStretch = false;
}

/**
 * A turn that came while the work awaited I/O can reach the work before the check phase does; the
 * stretch then looks longer than it is and the next pace() yields early, never late.
 */
function beginStretch(): void {
  isInStretch = true;
  stretchStart = performance.now();
  setImmediate(loopTurned);
}

export class EventLoopPacer {
  readonly #sliceMs: number;
  #turns = 0;

  constructor(sliceMs = DEFAULT_SLICE_MS) {
    this.#sliceMs = sliceMs;
  }

  /** Yields to the event loop when the current stretch has used up a slice; otherwise returns at once. */
  async pace(): Promise<void> {
    if (!isInStretch) {
      beginStretch();
      return;
    }
    if (performance.now() - stretchStart < this.#sliceMs) return;
    // The callback armed at the stretch's start runs in this same check phase, before this one.
    await nextTurn();
    this.#turns++;
    // Several paced works resuming in one check phase share the stretch the first one began.
    if (!isInStretch) beginStretch();
  }

  /** How many times the work gave the loop a turn (for logs and tests). */
  get turns(): number {
    return this.#turns;
  }
}
