// One process serves a SQLite file (docs/operations.md). Its dispatcher counts every other holder
// of a schedule row as a predecessor that stopped without releasing it, and takes its rows over at
// start-up: a second process started beside a live one (a deploy that starts the new process
// before stopping the old, a second `npm start`) sent the live one's launches in flight a second
// time. So `serve` holds the file: an exclusive lock on a small SQLite file beside the database
// (`<database>-serve.lock`), taken by SQLite's own file locking and given back by the operating
// system when the process ends, however it ends (a crash or SIGKILL included: no stale lock to
// clear by hand). A process that finds it held answers the API and waits, starting nothing in the
// background (dispatcher, calendar sync, deliveries) and not ready (`/readyz`), until the holder
// stops: a deploy of that kind becomes a handover.
//
// A lock on the database file itself would serialize the CLI beside the server (`keys create`),
// which WAL allows; hence a file of its own. Locks over a network file system are not to be
// trusted (SQLite's own advice), and neither is SQLite there.
import { DatabaseSync } from 'node:sqlite';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { engineOf } from './database.ts';

/** How often a waiting process tries the lock again. */
const RETRY_MS = 1_000;
/** How often it says again that it waits. */
const REMIND_MS = 60_000;

/**
 * A held lock. Keep a reference to it for as long as it is to be held: its connection closes when
 * it is garbage-collected, and the lock goes with it.
 */
export interface SqliteServeLock {
  readonly path: string;
  release(): void;
}

/** The lock file of a database URL; null for PostgreSQL and an in-memory SQLite database. */
export function serveLockPath(databaseUrl: string): string | null {
  if (engineOf(databaseUrl) !== 'sqlite') return null;
  const file = databaseUrl.slice('sqlite:'.length);
  return file === ':memory:' ? null : `${resolve(file)}-serve.lock`;
}

/** Takes the lock if no other process holds it; null when one does. */
export function tryServeLock(path: string): SqliteServeLock | null {
  const lock = new DatabaseSync(path);
  try {
    lock.exec('PRAGMA busy_timeout = 0');
    // In exclusive locking mode a connection keeps the lock of its first write until it closes.
    lock.exec('PRAGMA locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('COMMIT');
  } catch (error) {
    lock.close();
    if ((error as { errcode?: number }).errcode === 5 /* SQLITE_BUSY */) return null;
    throw error;
  }
  return { path, release: () => lock.close() };
}

/**
 * Holds the lock of `databaseUrl`'s file, waiting while another process holds it (saying so at
 * once, then every minute). Null when there is nothing to hold (PostgreSQL, in memory) or when
 * `isStopping` turns true while it waits.
 */
export async function holdServeLock(databaseUrl: string, logger: Logger, isStopping: () => boolean): Promise<SqliteServeLock | null> {
  const path = serveLockPath(databaseUrl);
  if (path === null) return null;
  let saidAt: number | null = null;
  for (;;) {
    if (isStopping()) return null;
    const lock = tryServeLock(path);
    if (lock) {
      if (saidAt !== null) logger.info({ lockFile: path }, 'the other process serving this SQLite file has stopped; starting the dispatcher and the background work');
      return lock;
    }
    if (saidAt === null || performance.now() - saidAt >= REMIND_MS) {
      logger.warn({ lockFile: path }, 'another Rollcall process serves this SQLite file: this one answers the API and waits for it to stop before starting the dispatcher and the background work (one process per SQLite file; use PostgreSQL for several)');
      saidAt = performance.now();
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}
