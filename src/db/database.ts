// Opens the one data store, SQLite (node:sqlite) or PostgreSQL, behind the same Kysely API.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { NodeSqliteDatabase } from './node-sqlite-database.ts';
import { DatabaseHealth, type OutageKind } from './database-health.ts';
import type { Schema } from './schema.ts';
import { SharedCommit, type TransactionWork } from './shared-commit.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<Schema>;
  engine: Engine;
  /** A pg pool for LISTEN/NOTIFY and raw checks (PostgreSQL only). */
  pool: pg.Pool | null;
  /** The SQLite handle, for pragmas and fault tests (SQLite only). */
  sqlite: DatabaseSync | null;
  /** Whether the database can be used now; learns from errors, recovers by probing. */
  health: DatabaseHealth;
  /**
   * Runs `work` in a transaction and resolves once it is committed and durable. On SQLite the
   * transactions ready in the same turn of the event loop share one commit (see shared-commit.ts),
   * so `work` must use only the `trx` it is given: not `db`, not `transact`, not the network. For
   * the API's write requests.
   */
  transact<T>(work: TransactionWork<T>): Promise<T>;
  close(): Promise<void>;
}

// bigint columns hold epoch milliseconds, well inside Number's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface OpenOptions {
  /** PostgreSQL schema to use (tests give each file its own). */
  searchPath?: string;
  poolSize?: number;
}

/** How long a request waits for a pooled PostgreSQL connection before failing as unavailable. */
const CONNECT_TIMEOUT_MS = 5000;

export function engineOf(databaseUrl: string): Engine {
  return databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
}

export class DatabaseOpenError extends Error {
  override name = 'DatabaseOpenError';
}

export async function openDatabase(databaseUrl: string, options: OpenOptions = {}): Promise<Database> {
  if (engineOf(databaseUrl) === 'sqlite') return openSqlite(databaseUrl.slice('sqlite:'.length));
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  });
  // A connection can die at any moment (failover, restart, an idle-timeout proxy,
  // pg_terminate_backend). pg emits 'error' on the client; without a listener that would end the
  // process. The query in flight fails on its own and the pool drops the client when it is
  // released, so the listeners only have to exist: idle clients report through the pool, checked
  // out ones through their own listener.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const health = new DatabaseHealth({ probe: (kind) => probeWrite(db, 'postgres', kind) });
  return {
    db, engine: 'postgres', pool, sqlite: null, health,
    transact: (work) => db.transaction().execute(work),
    close: async () => {
      health.close();
      await db.destroy();
    },
  };
}

function openSqlite(path: string): Database {
  const filePath = path === ':memory:' ? path : resolve(path);
  let database: NodeSqliteDatabase;
  try {
    if (filePath !== ':memory:') mkdirSync(dirname(filePath), { recursive: true });
    database = new NodeSqliteDatabase(filePath);
    // WAL lets readers in other processes (the CLI) work beside the server; synchronous=FULL makes
    // a commit durable before we answer, which the schedule endpoint promises.
    database.raw.exec('PRAGMA journal_mode = WAL');
    database.raw.exec('PRAGMA synchronous = FULL');
    database.raw.exec('PRAGMA busy_timeout = 5000');
    database.raw.exec('PRAGMA foreign_keys = ON');
  } catch (error) {
    throw new DatabaseOpenError(`Cannot open the SQLite database at ${filePath}: ${(error as Error).message}. Check that the directory exists and is writable by this user, or set DATABASE_URL.`, { cause: error });
  }
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
  const health = new DatabaseHealth({ probe: (kind) => probeWrite(db, 'sqlite', kind) });
  const commits = new SharedCommit(db, () => database.raw.isTransaction);
  return {
    db, engine: 'sqlite', pool: null, sqlite: database.raw, health,
    transact: (work) => commits.run(work),
    close: async () => {
      health.close();
      await db.destroy();
    },
  };
}

/**
 * Runs `work` in a transaction whose commit does not wait for the disk: PostgreSQL's
 * synchronous_commit off for this transaction, SQLite's synchronous=NORMAL (WAL) for it alone.
 * Either way the commit is atomic and survives a crash of this process; only a crash of the
 * machine (or the database server) in the next moment can undo it. The dispatcher uses it for its
 * own bookkeeping, where an undone commit only means a launch is sent again with the same
 * idempotency key; answers to API requests always wait for the disk.
 */
export async function inTransactionWithoutWaitingForDisk<T>(database: Database, work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
  if (database.engine === 'postgres') {
    return database.db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      return work(trx);
    });
  }
  // One SQLite connection serves the process: the setting applies to this transaction only
  // because the connection is held from before it starts until after it is restored.
  return database.db.connection().execute(async (connection) => {
    await sql`pragma synchronous = normal`.execute(connection);
    try {
      return await connection.transaction().execute(work);
    } finally {
      await sql`pragma synchronous = full`.execute(connection);
    }
  });
}

/** After a storage failure, the probe writes this much: an update in place proves nothing about space. */
const STORAGE_PROBE_BYTES = 256 * 1024;

/**
 * Succeeds only when the database answers and can commit a write: a reachable server with a full
 * disk is not available. After a storage failure it commits a row big enough to need new pages,
 * then removes it. The rows live in service_health (migration 004); before that migration ran,
 * answering at all is enough.
 */
async function probeWrite(db: Kysely<Schema>, engine: Engine, kind: OutageKind): Promise<void> {
  const now = Date.now();
  try {
    if (kind === 'storage') {
      await sql`insert into service_health (id, probed_at, padding) values (2, ${now}, ${'0'.repeat(STORAGE_PROBE_BYTES)})`.execute(db);
      await sql`delete from service_health where id = 2`.execute(db);
    }
    await sql`update service_health set probed_at = ${now} where id = 1`.execute(db);
  } catch (error) {
    const message = (error as Error).message ?? '';
    const isMissingTable = engine === 'sqlite' ? /no such table/.test(message) : (error as { code?: string }).code === '42P01';
    if (!isMissingTable) throw error;
    await sql`select 1`.execute(db);
  }
}
