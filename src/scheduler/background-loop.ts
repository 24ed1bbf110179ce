// The shape every background loop shares: one pass at a time, a wake-up that coalesces, a sleep
// until the next pass, and a failure that is logged, counted (unless the database was out) and
// retried after a capped, jittered pause. A loop never crashes the process and never stops silently.
import type { Logger } from 'pino';
import type { Metrics } from '../lib/metrics.ts';
import type { DatabaseHealth } from '../db/database-health.ts';
import { restartDelayMs } from './backoff.ts';

export interface BackgroundLoopOptions {
  /** The `loop` label of rollcall_loop_restarts_total (failures other than outages) and the name in logs. */
  name: string;
  logger: Logger;
  metrics: Metrics;
  /** One pass; resolves with how long to sleep before the next one. */
  pass: () => Promise<number>;
  /**
   * The database's health: a pass that fails on an outage is not logged as a failure of its own
   * (the outage is logged once) and runs again as soon as the database is back.
   */
  health?: DatabaseHealth;
}

export class BackgroundLoop {
  readonly #o: BackgroundLoopOptions;
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #pass: Promise<void> | null = null;
  #again = false;
  #failures = 0;

  constructor(options: BackgroundLoopOptions) {
    this.#o = options;
  }

  get isRunning(): boolean {
    return this.#running;
  }

  #stopListening: (() => void) | null = null;

  start(): void {
    this.#running = true;
    this.#stopListening ??= this.#o.health?.onRecovered(() => this.wake()) ?? null;
    this.wake();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#stopListening?.();
    this.#stopListening = null;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#pass;
  }

  /** Runs a pass now, or right after the one under way. */
  wake(): void {
    if (!this.#running) return;
    if (this.#pass) {
      this.#again = true;
      return;
    }
    this.#pass = this.#run().finally(() => {
      this.#pass = null;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  async #run(): Promise<void> {
    let delayMs: number;
    try {
      delayMs = await this.#o.pass();
      this.#failures = 0;
    } catch (error) {
      this.#failures++;
      delayMs = restartDelayMs(this.#failures);
      // An outage is not the loop's failure: rollcall_database_up shows it, and counting it here
      // would set off the alert on loop restarts at every database blip.
      if (this.#o.health?.observe(error)) this.#o.logger.debug({ loop: this.#o.name, retryInMs: delayMs }, 'background loop pass failed: database unavailable');
      else {
        this.#o.metrics.loopRestarts.inc({ loop: this.#o.name });
        this.#o.logger.error({ err: error, loop: this.#o.name, retryInMs: delayMs }, 'background loop pass failed');
      }
    }
    this.#sleep(delayMs);
  }

  #sleep(delayMs: number): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.wake();
    }, delayMs);
  }
}
