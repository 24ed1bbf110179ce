// Whether the database can be used right now, learned from the errors callers see and confirmed
// by a probe. A lost connection, a restarting server or a full disk is an outage, not a bug: the
// HTTP layer answers 503 database_unavailable, loops stop retrying on their own timers (which
// would hammer a recovering server) and wait for the probe, and one log line marks each edge.
import type { Logger } from 'pino';

/** How often an unavailable database is probed. One cheap statement a second is not a storm. */
export const PROBE_INTERVAL_MS = 500;

/** PostgreSQL SQLSTATE codes that mean "the server cannot serve you now", not "your SQL is wrong". */
const POSTGRES_OUTAGE_STATES = new Set([
  '57P01', // admin_shutdown: terminated by pg_terminate_backend or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
  '53100', // disk_full
  '53200', // out_of_memory
  '58030', // io_error
]);

/**
 * The server gave up on one statement: statement_timeout or a cancel request (57014,
 * query_canceled), lock_timeout (55P03, lock_not_available). Its transaction rolled back and may
 * well go through a moment later, but the database is not down: no outage, the caller retries.
 */
const POSTGRES_GAVE_UP_STATES = new Set(['57014', '55P03']);

/** True for an error of a statement the PostgreSQL server cancelled at one of its time limits. */
export function isStatementGivenUp(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && POSTGRES_GAVE_UP_STATES.has(code);
}

/** Socket-level failures while reaching the server. */
const NETWORK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** node-postgres reports a dead connection with these messages and no code. */
const POSTGRES_OUTAGE_MESSAGES = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed|terminating connection|Connection ended/i;

/** SQLite primary result codes that mean the file cannot be used now (busy past busy_timeout, read-only, I/O error, full, cannot open). */
const SQLITE_OUTAGE_CODES = new Set([5, 8, 10, 13, 14]);

export type OutageKind = 'connection' | 'storage';

/** The kind of outage an error reveals, or null when the error is not an outage (a bug, a constraint). */
export function outageKindOf(error: unknown): OutageKind | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown; errors?: unknown };
  if (e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number') {
    return SQLITE_OUTAGE_CODES.has(e.errcode & 0xff) ? 'storage' : null;
  }
  if (typeof e.code === 'string') {
    if (e.code === '53100' || e.code === '58030') return 'storage';
    if (e.code.startsWith('08') || POSTGRES_OUTAGE_STATES.has(e.code) || NETWORK_ERRNOS.has(e.code)) return 'connection';
  }
  // AggregateError from a connect attempt to several addresses (IPv4 and IPv6 of localhost).
  if (Array.isArray(e.errors) && e.errors.some((inner) => outageKindOf(inner) !== null)) return 'connection';
  if (typeof e.message === 'string' && POSTGRES_OUTAGE_MESSAGES.test(e.message)) return 'connection';
  return null;
}

export function isDatabaseOutage(error: unknown): boolean {
  return outageKindOf(error) !== null;
}

export interface DatabaseHealthOptions {
  /**
   * Succeeds only when the outage of this kind is over: the database answers and commits a
   * write, and after a storage failure, a write that needs new space.
   */
  probe: (kind: OutageKind) => Promise<void>;
  probeIntervalMs?: number;
}

export class DatabaseHealth {
  readonly #probe: (kind: OutageKind) => Promise<void>;
  readonly #intervalMs: number;
  readonly #recoveryListeners = new Set<() => void>();
  #logger: Logger | null = null;
  #outage: { kind: OutageKind; since: number; message: string } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #isClosed = false;

  constructor(options: DatabaseHealthOptions) {
    this.#probe = options.probe;
    this.#intervalMs = options.probeIntervalMs ?? PROBE_INTERVAL_MS;
  }

  /** The logger is the container's; the database is opened before it exists in tests. */
  setLogger(logger: Logger): void {
    this.#logger = logger;
  }

  get isAvailable(): boolean {
    return this.#outage === null;
  }

  /** What is wrong, for /readyz and logs; null when nothing is. */
  get outage(): { kind: OutageKind; since: number; message: string } | null {
    return this.#outage;
  }

  /** Calls `listener` each time the database comes back after an outage. */
  onRecovered(listener: () => void): () => void {
    this.#recoveryListeners.add(listener);
    return () => this.#recoveryListeners.delete(listener);
  }

  /**
   * Looks at an error a caller got. An outage error marks the database unavailable (logged once)
   * and starts the probe; returns whether it was one. A statement the server gave up on (its
   * statement_timeout, lock_timeout) is none: the database answers, and a loop that splits a
   * failing batch (run-apart.ts) isolates the one row a lock holds rather than hold them all.
   */
  observe(error: unknown): boolean {
    const kind = outageKindOf(error);
    if (kind === null) return false;
    if (this.#outage === null && !this.#isClosed) {
      const message = error instanceof Error ? error.message : String(error);
      this.#outage = { kind, since: Date.now(), message };
      this.#logger?.error({ kind, cause: message }, kind === 'storage' ? 'database cannot write (storage full or failing); probing until it can' : 'database unavailable; probing until it answers');
      this.#scheduleProbe();
    }
    return true;
  }

  #scheduleProbe(): void {
    if (this.#timer || this.#isClosed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#runProbe();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async #runProbe(): Promise<void> {
    if (this.#outage === null || this.#isClosed) return;
    try {
      await this.#probe(this.#outage.kind);
    } catch (error) {
      // Still down (or down in another way): keep the first cause, probe again later.
      if (outageKindOf(error) === null) this.#logger?.warn({ err: error }, 'database probe failed with an unexpected error');
      this.#scheduleProbe();
      return;
    }
    const outage = this.#outage;
    this.#outage = null;
    this.#logger?.warn({ downForMs: Date.now() - outage.since }, 'database available again');
    for (const listener of this.#recoveryListeners) {
      try {
        listener();
      } catch (error) {
        this.#logger?.error({ err: error }, 'database recovery listener failed');
      }
    }
  }

  /** Stops probing (the database is being closed). */
  close(): void {
    this.#isClosed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
