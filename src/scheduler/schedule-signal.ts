// Wakes dispatchers when schedules change. In one process a direct call does it; across
// PostgreSQL instances a NOTIFY sent after the changing transaction commits (coalesced) does.
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Database } from '../db/database.ts';
import type { ScheduleChangeSignal } from '../services/scheduling/bot-lifecycle.ts';
import { restartDelayMs } from './backoff.ts';

const CHANNEL = 'rollcall_schedules';

/** Changes within this long of each other are announced to other instances with one NOTIFY. */
const NOTIFY_COALESCE_MS = 10;

export class ScheduleSignal implements ScheduleChangeSignal {
  readonly #database: Database;
  readonly #logger: Logger;
  #wake: () => void = () => {};
  #client: pg.PoolClient | null = null;
  #stopped = false;
  #failures = 0;
  #pending = false;
  #notifyTimer: NodeJS.Timeout | null = null;
  #stopListening: (() => void) | null = null;
  /** The connection being made, which a stop waits for (its client is released, not kept). */
  #connecting: Promise<void> | null = null;

  constructor(database: Database, logger: Logger) {
    this.#database = database;
    this.#logger = logger;
  }

  afterCommit(): void {
    this.#wakeLocally();
    // A burst of changes is announced to the other instances with one NOTIFY (one per request was
    // a round trip per request), sent after the commit so that whoever it wakes sees the change.
    if (this.#database.engine !== 'postgres' || this.#notifyTimer || this.#stopped) return;
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = null;
      this.#database.pool?.query(`select pg_notify('${CHANNEL}', '')`).catch((error: unknown) => {
        // Missing one is harmless: other instances also poll (every few seconds).
        this.#database.health.observe(error);
      });
    }, NOTIFY_COALESCE_MS);
    this.#notifyTimer.unref();
  }

  /** Wakes this process's loops once for a burst of changes. */
  #wakeLocally(): void {
    if (this.#pending) return;
    this.#pending = true;
    setImmediate(() => {
      this.#pending = false;
      this.#wake();
    });
  }

  /** Starts listening for other instances' changes (PostgreSQL only). */
  async listen(wake: () => void): Promise<void> {
    this.#wake = wake;
    this.#stopped = false;
    if (this.#database.engine !== 'postgres') return;
    // After an outage, listen again as soon as the database answers, not after the backoff.
    this.#stopListening ??= this.#database.health.onRecovered(() => {
      if (!this.#client && !this.#stopped) void this.#connect();
    });
    await this.#connect();
  }

  #connect(): Promise<void> {
    if (this.#stopped || !this.#database.pool || this.#client || this.#connecting) return this.#connecting ?? Promise.resolve();
    this.#connecting = this.#connectOnce(this.#database.pool).finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #connectOnce(pool: pg.Pool): Promise<void> {
    let client: pg.PoolClient | null = null;
    try {
      client = await pool.connect();
      const listener = client;
      // Another instance's change: wake here, and announce nothing (that would echo forever).
      client.on('notification', () => this.#wakeLocally());
      client.on('error', (error) => {
        this.#logger.warn({ err: error }, 'schedule listener connection lost; reconnecting');
        if (this.#client !== listener) return;
        this.#client = null;
        listener.release(true);
        this.#retry();
      });
      await client.query(`LISTEN ${CHANNEL}`);
      // Stopped meanwhile (a stop during start-up): a client kept now would never be released,
      // and closing the pool would wait for it for ever.
      if (this.#stopped) {
        client.release(true);
        return;
      }
      this.#client = client;
      this.#failures = 0;
      // Anything that changed while we were not listening is picked up by looking now.
      this.#wakeLocally();
    } catch (error) {
      if (client && this.#client !== client) client.release(true);
      if (!this.#database.health.observe(error)) this.#logger.warn({ err: error }, 'cannot listen for schedule changes; polling until it works');
      this.#retry();
    }
  }

  #retry(): void {
    if (this.#stopped) return;
    this.#failures++;
    setTimeout(() => void this.#connect(), restartDelayMs(this.#failures)).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#notifyTimer) clearTimeout(this.#notifyTimer);
    this.#notifyTimer = null;
    this.#stopListening?.();
    this.#stopListening = null;
    await this.#connecting;
    const client = this.#client;
    this.#client = null;
    if (client) {
      await client.query(`UNLISTEN ${CHANNEL}`).catch(() => {});
      client.release();
    }
  }
}
