// At most `limit` pieces of work at once for each key, shared by every caller in the process; the
// others wait their turn, first come first served. Keys hold nothing while idle: a key's entry goes
// with its last piece of work, so any number of keys costs memory only while they are busy.
// Written here for the same reason as bounded-parallel.ts (no concurrency library among the
// dependencies); what it adds is a wait that its caller's signal, or its own bound, can end before
// the work starts.

/** A wait for a slot ended by the caller's signal: the work was never started. */
export class SlotWaitEnded extends Error {
  override name = 'SlotWaitEnded';
}

/** A wait for a slot that lasted its bound (SlotWait.maxWaitMs): the work was never started. */
export class SlotWaitTimedOut extends Error {
  override name = 'SlotWaitTimedOut';

  readonly waitedMs: number;

  constructor(waitedMs: number) {
    super(`no slot was free within ${waitedMs} ms`);
    this.waitedMs = waitedMs;
  }
}

/**
 * How a caller waits for a slot. `signal` aborted ends the wait at once (SlotWaitEnded);
 * `maxWaitMs`, the longest wait (SlotWaitTimedOut once it is over). Neither touches the work once
 * it has started. `maxWaitMs` undefined or Infinity: no bound. Above MAX_WAIT_MS (2^31 - 1, about
 * 24.8 days, the longest delay a timer takes: a longer one fires at once) it is clamped to
 * MAX_WAIT_MS. Negative or NaN: a RangeError.
 */
export interface SlotWait {
  signal?: AbortSignal | undefined;
  maxWaitMs?: number | undefined;
}

/** The longest bound a wait takes (setTimeout's largest delay); a longer one is clamped to it. */
export const MAX_WAIT_MS = 2 ** 31 - 1;

interface Waiter {
  start: () => void;
}

type Entry = { running: number; waiting: Waiter[] };

export class KeyedSlots {
  readonly #limit: number;
  readonly #keys = new Map<string, Entry>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
    this.#limit = limit;
  }

  /** Keys with work running or waiting now: an idle key holds no entry. */
  get keysInUse(): number {
    return this.#keys.size;
  }

  /** Pieces of work of `key` running now (0 for a key not in use). */
  running(key: string): number {
    return this.#keys.get(key)?.running ?? 0;
  }

  /** Callers of `key` waiting for a slot now (0 for a key not in use). */
  waiting(key: string): number {
    return this.#keys.get(key)?.waiting.length ?? 0;
  }

  /**
   * `work` once one of `key`'s slots is free, the slot held until it settles. A wait ended before
   * then (`wait.signal` aborted: SlotWaitEnded; `wait.maxWaitMs` over: SlotWaitTimedOut) leaves
   * the queue at once, holds no slot, and `work` is never started; a slot freed later goes to the
   * next caller still waiting. Once started, the signal is the work's own business.
   */
  async run<R>(key: string, work: () => Promise<R>, wait: SlotWait = {}): Promise<R> {
    if (wait.maxWaitMs !== undefined && !(wait.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be a number of milliseconds, not ${wait.maxWaitMs}`);
    if (wait.signal?.aborted) throw new SlotWaitEnded('ended before a slot was free');
    let entry = this.#keys.get(key);
    if (!entry) {
      entry = { running: 0, waiting: [] };
      this.#keys.set(key, entry);
    }
    if (entry.running < this.#limit) entry.running += 1;
    else await this.#wait(entry, key, wait.signal, wait.maxWaitMs === undefined || wait.maxWaitMs === Infinity ? undefined : Math.min(wait.maxWaitMs, MAX_WAIT_MS));
    try {
      return await work();
    } finally {
      this.#release(key, entry);
    }
  }

  /** Waits for a slot, which the releasing work hands over (running stays counted for it). */
  #wait(entry: Entry, key: string, signal: AbortSignal | undefined, maxWaitMs: number | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      /** Leaves the queue without a slot (none was handed to this waiter: it would no longer be queued). */
      const leave = (error: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = entry.waiting.indexOf(waiter);
        if (at < 0) return;
        entry.waiting.splice(at, 1);
        if (entry.running === 0 && entry.waiting.length === 0) this.#keys.delete(key);
        reject(error);
      };
      const onAbort = () => leave(new SlotWaitEnded('ended before a slot was free'));
      const waiter: Waiter = {
        start: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      entry.waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (maxWaitMs !== undefined) timer = setTimeout(() => leave(new SlotWaitTimedOut(maxWaitMs)), maxWaitMs);
    });
  }

  #release(key: string, entry: Entry): void {
    const next = entry.waiting.shift();
    if (next) {
      next.start();
      return;
    }
    entry.running -= 1;
    if (entry.running === 0) this.#keys.delete(key);
  }
}
