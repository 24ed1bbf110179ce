// A database of the benchmark's own for one measurement: a SQLite file in a temp directory, or a
// PostgreSQL database created for it and dropped afterwards (with whatever pg-boss put in it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database, type Engine } from '../../src/db/database.ts';
import { randomToken } from '../../src/lib/ids.ts';
import { onCleanup } from './cleanup.ts';

/** The server to create databases on (user postgres, trust auth, as in the test setup). */
export const ADMIN_POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  engine: Engine;
  /** DATABASE_URL for a Rollcall process. */
  url: string;
  /** For SQLite, the file; for PostgreSQL, the database name. */
  location: string;
  /** A directory the measurement may use for scratch files (profiles, the server's cwd). */
  dir: string;
  open(options?: { poolSize?: number }): Promise<Database>;
  drop(): Promise<void>;
}

export async function createBenchDatabase(engine: Engine, label: string): Promise<BenchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `rollcall-bench-${label}-`));
  if (engine === 'sqlite') {
    const file = join(dir, 'rollcall.db');
    const url = `sqlite:${file}`;
    const drop = onCleanup(`sqlite ${file}`, () => rmSync(dir, { recursive: true, force: true }));
    return { engine, url, location: file, dir, open: () => openDatabase(url), drop };
  }
  const name = `rcbench_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomToken(8).toLowerCase()}`;
  const admin = new pg.Client({ connectionString: ADMIN_POSTGRES_URL });
  try {
    await admin.connect();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Cannot reach PostgreSQL at ${ADMIN_POSTGRES_URL} (${(error as Error).message}); set BENCH_POSTGRES_URL or start it`);
  }
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const base = new URL(ADMIN_POSTGRES_URL);
  base.pathname = `/${name}`;
  const url = base.toString();
  const drop = onCleanup(`postgres database ${name}`, async () => {
    rmSync(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: ADMIN_POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`drop database if exists ${name} with (force)`);
    } finally {
      await client.end();
    }
  });
  return { engine, url, location: name, dir, open: (options = {}) => openDatabase(url, options), drop };
}
