// At most `limit` pieces of work at once for each key, shared by every caller in the process; the
// others wait their turn, first come first served. Keys hold nothing while idle: a key's entry goes
// with its last piece of work, so any number of keys costs memory only while they are busy.
// Written here for the same reason as bounded-parallel.ts (no concurrency library among the
// dependencies); what it adds is a wait that its caller's signal can end before the work starts.

/** A wait for a slot ended by the caller's signal: the work was never started. */
export class SlotWaitEnded extends Error {
  override name = 'SlotWaitEnded';
}

interface Waiter {
  start: () => void;
}

export class KeyedSlots {
  readonly #limit: number;
  readonly #keys = new Map<string, { running: number; waiting: Waiter[] }>();

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

  /**
   * `work` once one of `key`'s slots is free, the slot held until it settles. `signal` aborted
   * before then ends the wait with SlotWaitEnded, and `work` is never started; once started, the
   * signal is the work's own business.
   */
  async run<R>(key: string, work: () => Promise<R>, signal?: AbortSignal): Promise<R> {
    if (signal?.aborted) throw new SlotWaitEnded('ended before a slot was free');
    let entry = this.#keys.get(key);
    if (!entry) {
      entry = { running: 0, waiting: [] };
      this.#keys.set(key, entry);
    }
    if (entry.running < this.#limit) entry.running += 1;
    else await this.#wait(entry, key, signal);
    try {
      return await work();
    } finally {
      this.#release(key, entry);
    }
  }

  /** Waits for a slot, which the releasing work hands over (running stays counted for it). */
  #wait(entry: { running: number; waiting: Waiter[] }, key: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        entry.waiting.splice(entry.waiting.indexOf(waiter), 1);
        if (entry.running === 0 && entry.waiting.length === 0) this.#keys.delete(key);
        reject(new SlotWaitEnded('ended before a slot was free'));
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      entry.waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(key: string, entry: { running: number; waiting: Waiter[] }): void {
    const next = entry.waiting.shift();
    if (next) {
      next.start();
      return;
    }
    entry.running -= 1;
    if (entry.running === 0) this.#keys.delete(key);
  }
}
