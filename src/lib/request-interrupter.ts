// Ends a part's outbound requests when a stop has waited for them long enough: a calendar
// provider may take CALENDAR_HTTP_TIMEOUT_MS (15 s by default) to answer, longer than a process
// gets to stop. Requests read `signal` when they start; `interrupt` aborts those under way;
// `renew` (on start) gives later requests a signal that is not aborted.
import { settledWithin } from './deadline.ts';

export class RequestInterrupter {
  #controller = new AbortController();

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get isInterrupted(): boolean {
    return this.#controller.signal.aborted;
  }

  interrupt(): void {
    this.#controller.abort();
  }

  renew(): void {
    if (this.#controller.signal.aborted) this.#controller = new AbortController();
  }

  /**
   * A stop's wait: for `work` (what is under way) up to `graceMs`, then the requests still under
   * way are ended and `work` is waited for to its end; requests made afterwards start afresh.
   */
  async endWithin(work: Promise<void>, graceMs: number): Promise<void> {
    await settledWithin(work.catch(() => {}), graceMs, undefined);
    this.interrupt();
    try {
      await work;
    } finally {
      this.renew();
    }
  }
}
