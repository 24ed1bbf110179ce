// The ceiling the schedule endpoint is compared with: how many one-row insert transactions per
// second the database itself commits, from Node, with the service's own engine settings.
import { sql } from 'kysely';
import pg from 'pg';
import { randomToken } from '../src/lib/ids.ts';
import type { BenchDatabase } from './lib/databases.ts';
import { round } from './lib/stats.ts';

export interface RawInsertRate {
  /** At the concurrency the service itself uses (PostgreSQL pool of 10; SQLite has one writer). */
  per_s: number;
  /** One transaction after another on one connection. */
  serial_per_s: number;
  concurrency: number;
}

const PAYLOAD = 'x'.repeat(200);

export async function measureRawInsertRate(db: BenchDatabase, seconds: number): Promise<RawInsertRate> {
  if (db.engine === 'sqlite') {
    // openDatabase, so that WAL and synchronous=FULL are exactly the service's.
    const database = await db.open();
    try {
      await sql`create table bench_raw (id text primary key, at bigint not null, payload text not null)`.execute(database.db);
      const serial = await timed(seconds, async () => {
        await database.db.transaction().execute(async (trx) => {
          await sql`insert into bench_raw (id, at, payload) values (${randomToken()}, ${Date.now()}, ${PAYLOAD})`.execute(trx);
        });
      }, 1);
      await sql`drop table bench_raw`.execute(database.db);
      return { per_s: round(serial, 0), serial_per_s: round(serial, 0), concurrency: 1 };
    } finally {
      await database.close();
    }
  }
  const pool = new pg.Pool({ connectionString: db.url, max: 10 });
  pool.on('error', () => {});
  try {
    await pool.query('create table bench_raw (id text primary key, at bigint not null, payload text not null)');
    const once = async () => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query('insert into bench_raw (id, at, payload) values ($1, $2, $3)', [randomToken(), Date.now(), PAYLOAD]);
        await client.query('commit');
      } finally {
        client.release();
      }
    };
    const serial = await timed(seconds / 2, once, 1);
    const concurrent = await timed(seconds / 2, once, 10);
    await pool.query('drop table bench_raw');
    return { per_s: round(concurrent, 0), serial_per_s: round(serial, 0), concurrency: 10 };
  } finally {
    await pool.end();
  }
}

/** Runs `work` in `lanes` loops for `seconds` (after a short warm-up); answers completions per second. */
async function timed(seconds: number, work: () => Promise<void>, lanes: number): Promise<number> {
  const warmUntil = Date.now() + 300;
  while (Date.now() < warmUntil) await work();
  let done = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (performance.now() < end) {
      await work();
      done++;
    }
  }));
  return done / ((performance.now() - started) / 1000);
}
