// Whether this machine's clock agrees with the database server's. A bot is launched when this
// process's clock says its time has come, so a clock 30 s fast launches every bot this instance
// claims 30 s early (and a slow one late), and nothing else would tell: its own lateness figures
// are read on the same clock. With several instances on one PostgreSQL, the server's clock is the
// one they share, so each instance that fires compares its clock with it, at start and every
// minute: a gauge and a warning past the tolerance. Not a readiness check: the server's own clock
// may be the one that drifted, and taking every instance out of service would not help that.
// SQLite has one process, on the machine whose clock it keeps: there is nothing to compare.
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './database.ts';
import type { Clock } from '../lib/clock.ts';

/** Beyond this, launches are visibly early or late: a warning. */
export const SKEW_TOLERANCE_MS = 2_000;
/** A sample whose round trip took longer says too little about the difference. */
const MAX_ROUND_TRIP_MS = 500;
const CHECK_INTERVAL_MS = 60_000;
/** Round trips per comparison: the quickest says the most. */
const SAMPLES = 3;
/** Before the first measurement, a failed comparison is tried again this soon. */
const FIRST_RETRY_MS = 2_000;

export interface ClockSample {
  /** This process's clock when the query went out and when its answer came. */
  sentAtMs: number;
  receivedAtMs: number;
  /** The server's clock, read during the query. */
  serverMs: number;
}

/** This clock minus the server's, from one sample (taken at the round trip's midpoint), or null when the trip was too slow to tell. */
export function skewOf(sample: ClockSample): number | null {
  if (sample.receivedAtMs - sample.sentAtMs > MAX_ROUND_TRIP_MS) return null;
  return (sample.sentAtMs + sample.receivedAtMs) / 2 - sample.serverMs;
}

/** What to say of a skew: null within the tolerance. */
export function skewProblem(skewMs: number | null): string | null {
  if (skewMs === null || Math.abs(skewMs) <= SKEW_TOLERANCE_MS) return null;
  const seconds = (Math.abs(skewMs) / 1000).toFixed(1);
  return skewMs > 0
    ? `this machine's clock is ${seconds} s ahead of the database server's: its bots launch ${seconds} s early; synchronise the clocks (NTP)`
    : `this machine's clock is ${seconds} s behind the database server's: its bots launch ${seconds} s late; synchronise the clocks (NTP)`;
}

export class ClockSkewMonitor {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #skewMs: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #isRunning = false;

  constructor(deps: { database: Database; clock: Clock; logger: Logger }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** The last measured difference (this clock minus the server's), or null before one. */
  get skewMs(): number | null {
    return this.#skewMs;
  }

  get problem(): string | null {
    return skewProblem(this.#skewMs);
  }

  /** Compares the clocks (the quickest of a few round trips); false when every one was too slow to tell. */
  async check(): Promise<boolean> {
    let best: ClockSample | null = null;
    for (let i = 0; i < SAMPLES; i++) {
      const sentAtMs = this.#clock.now();
      const { rows } = await sql<{ server_ms: string | number }>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as server_ms`.execute(this.#database.db);
      const sample = { sentAtMs, receivedAtMs: this.#clock.now(), serverMs: Number(rows[0]!.server_ms) };
      if (!best || sample.receivedAtMs - sample.sentAtMs < best.receivedAtMs - best.sentAtMs) best = sample;
    }
    const skew = skewOf(best!);
    if (skew === null) return false;
    const before = this.problem;
    this.#skewMs = skew;
    const now = this.problem;
    if (now !== null && before === null) this.#logger.warn({ skewMs: Math.round(skew) }, now);
    if (now === null && before !== null) this.#logger.info({ skewMs: Math.round(skew) }, 'this machine\'s clock agrees with the database server\'s again');
    return true;
  }

  start(): void {
    if (this.#timer || this.#isRunning) return;
    this.#isRunning = true;
    const run = async () => {
      let delay = CHECK_INTERVAL_MS;
      try {
        // Not measured yet (a start under load, an outage): soon again rather than in a minute.
        if (!(await this.check()) && this.#skewMs === null) delay = FIRST_RETRY_MS;
      } catch (error) {
        if (!this.#database.health.observe(error)) this.#logger.warn({ err: error }, 'could not compare the clock with the database server\'s');
        if (this.#skewMs === null) delay = FIRST_RETRY_MS;
      }
      if (!this.#isRunning) return;
      this.#timer = setTimeout(() => void run(), delay);
      this.#timer.unref();
    };
    void run();
  }

  stop(): void {
    this.#isRunning = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
