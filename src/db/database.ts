// Opens the one data store, SQLite (node:sqlite) or PostgreSQL, behind the same Kysely API.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { NodeSqliteDatabase } from './node-sqlite-database.ts';
import type { Schema } from './schema.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<Schema>;
  engine: Engine;
  /** A pg pool for LISTEN/NOTIFY and raw checks (PostgreSQL only). */
  pool: pg.Pool | null;
  close(): Promise<void>;
}

// bigint columns hold epoch milliseconds, well inside Number's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface OpenOptions {
  /** PostgreSQL schema to use (tests give each file its own). */
  searchPath?: string;
  poolSize?: number;
}

export function engineOf(databaseUrl: string): Engine {
  return databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
}

export async function openDatabase(databaseUrl: string, options: OpenOptions = {}): Promise<Database> {
  if (engineOf(databaseUrl) === 'sqlite') return openSqlite(databaseUrl.slice('sqlite:'.length));
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  });
  // An idle client that loses its connection must not take the process down.
  pool.on('error', () => {});
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return { db, engine: 'postgres', pool, close: () => db.destroy() };
}

function openSqlite(path: string): Database {
  const filePath = path === ':memory:' ? path : resolve(path);
  if (filePath !== ':memory:') mkdirSync(dirname(filePath), { recursive: true });
  const database = new NodeSqliteDatabase(filePath);
  // WAL lets readers in other processes (the CLI) work beside the server; synchronous=FULL makes
  // a commit durable before we answer, which the schedule endpoint promises.
  database.raw.exec('PRAGMA journal_mode = WAL');
  database.raw.exec('PRAGMA synchronous = FULL');
  database.raw.exec('PRAGMA busy_timeout = 5000');
  database.raw.exec('PRAGMA foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
  return { db, engine: 'sqlite', pool: null, close: () => db.destroy() };
}
