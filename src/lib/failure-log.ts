// Logs failures that can come by the thousand: a runtime down while a burst of launches is due,
// a receiver down for every webhook of its bots. The first few of each minute are logged in full
// (an operator sees what fails and why); the rest are counted, and one line at the end of the
// minute says how many more there were and the last one's cause. The decision log of each bot and
// the metrics keep every one. (A per-minute count of one message is all this needs, which no
// logging library offers as such; pino has no sampling.)
import type { Logger } from 'pino';

export interface FailureLogOptions {
  /** Lines logged in full per window. (Default: 5) */
  perWindow?: number;
  /** (Default: 60000) */
  windowMs?: number;
}

export class FailureLog {
  readonly #logger: Logger;
  readonly #message: string;
  readonly #perWindow: number;
  readonly #windowMs: number;
  #logged = 0;
  #suppressed = 0;
  #last: Record<string, unknown> | null = null;
  #window: ReturnType<typeof setTimeout> | null = null;

  constructor(logger: Logger, message: string, options: FailureLogOptions = {}) {
    this.#logger = logger;
    this.#message = message;
    this.#perWindow = options.perWindow ?? 5;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  /** One failure, with the fields that say which and why. */
  note(fields: Record<string, unknown>): void {
    if (this.#window === null) {
      this.#window = setTimeout(() => this.#endWindow(), this.#windowMs);
      this.#window.unref();
    }
    if (this.#logged < this.#perWindow) {
      this.#logged++;
      this.#logger.warn(fields, this.#message);
      return;
    }
    this.#suppressed++;
    this.#last = fields;
  }

  /** Says now what the window held back (a stop: the process may end before the window does). */
  flush(): void {
    if (this.#window !== null) clearTimeout(this.#window);
    this.#endWindow();
  }

  #endWindow(): void {
    this.#window = null;
    if (this.#suppressed > 0) {
      this.#logger.warn({ more: this.#suppressed, windowSeconds: this.#windowMs / 1000, last: this.#last }, `${this.#message}: ${this.#suppressed} more in the last ${this.#windowMs / 1000} s (the last one here)`);
    }
    this.#logged = 0;
    this.#suppressed = 0;
    this.#last = null;
  }
}
