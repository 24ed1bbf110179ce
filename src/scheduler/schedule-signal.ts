// Wakes dispatchers when schedules change. In one process a direct call does it; across
// PostgreSQL instances a NOTIFY sent inside the changing transaction (delivered at commit) does.
import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Database } from '../db/database.ts';
import type { Schema } from '../db/schema.ts';
import type { ScheduleChangeSignal } from '../services/bot-lifecycle.ts';
import { restartDelayMs } from './backoff.ts';

const CHANNEL = 'rollcall_schedules';

export class ScheduleSignal implements ScheduleChangeSignal {
  readonly #database: Database;
  readonly #logger: Logger;
  #wake: () => void = () => {};
  #client: pg.PoolClient | null = null;
  #stopped = false;
  #failures = 0;
  #pending = false;
  #stopListening: (() => void) | null = null;
  #connecting = false;

  constructor(database: Database, logger: Logger) {
    this.#database = database;
    this.#logger = logger;
  }

  async inTransaction(trx: Transaction<Schema>): Promise<void> {
    if (this.#database.engine === 'postgres') await sql`select pg_notify(${CHANNEL}, '')`.execute(trx);
  }

  afterCommit(): void {
    // Coalesce a burst of changes into one wake-up.
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

  async #connect(): Promise<void> {
    if (this.#stopped || !this.#database.pool || this.#client || this.#connecting) return;
    this.#connecting = true;
    let client: pg.PoolClient | null = null;
    try {
      client = await this.#database.pool.connect();
      const listener = client;
      client.on('notification', () => this.afterCommit());
      client.on('error', (error) => {
        this.#logger.warn({ err: error }, 'schedule listener connection lost; reconnecting');
        if (this.#client !== listener) return;
        this.#client = null;
        listener.release(true);
        this.#retry();
      });
      await client.query(`LISTEN ${CHANNEL}`);
      this.#client = client;
      this.#failures = 0;
      // Anything that changed while we were not listening is picked up by looking now.
      this.afterCommit();
    } catch (error) {
      if (client && this.#client !== client) client.release(true);
      if (!this.#database.health.observe(error)) this.#logger.warn({ err: error }, 'cannot listen for schedule changes; polling until it works');
      this.#retry();
    } finally {
      this.#connecting = false;
    }
  }

  #retry(): void {
    if (this.#stopped) return;
    this.#failures++;
    setTimeout(() => void this.#connect(), restartDelayMs(this.#failures)).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopListening?.();
    this.#stopListening = null;
    const client = this.#client;
    this.#client = null;
    if (client) {
      await client.query(`UNLISTEN ${CHANNEL}`).catch(() => {});
      client.release();
    }
  }
}
