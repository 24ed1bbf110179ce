// Forward-only numbered migrations, applied under a lock so that several instances starting at
// once (or `rollcall migrate` next to a running server) apply each one exactly once.
import { sql, type Kysely } from 'kysely';
import type { Engine } from './database.ts';
import type { Schema } from './schema.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { alignEventFeedWithServer } from './event-feed-server.ts';

export interface Migration {
  version: number;
  name: string;
  up(db: Kysely<any>, engine: Engine): Promise<void>;
}

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/** The migration that records which server numbers the event change feed (024). */
const EVENT_FEED_SERVER_VERSION = 24;

// Any fixed number works; it only has to be the same for every Rollcall process.
export const POSTGRES_MIGRATION_LOCK_ID = 727_274_001;

export interface MigrationResult {
  applied: { version: number; name: string }[];
  currentVersion: number;
}

/** Whether the database was empty: this migration created its schema (the first migration ran). */
export function createdSchema(result: MigrationResult): boolean {
  return result.applied.some((m) => m.version === 1);
}

export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

export async function migrate(db: Kysely<Schema>, engine: Engine, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  const applied: MigrationResult['applied'] = [];
  await db.connection().execute(async (conn) => {
    // On SQLite, BEGIN IMMEDIATE takes the write lock up front, so a second process waits here
    // (busy_timeout) instead of reading a version list that is about to change.
    await sql.raw(engine === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    try {
      if (engine === 'postgres') {
        // A statement_timeout or lock_timeout set on the role or the connection is meant for the
        // service's queries. Under either, an instance waiting for another's migrations (a lock
        // wait), or a migration that builds an index on a large table, would be cancelled and the
        // instance fail to start.
        await sql`set local statement_timeout = 0`.execute(conn);
        await sql`set local lock_timeout = 0`.execute(conn);
        await sql`select pg_advisory_xact_lock(${POSTGRES_MIGRATION_LOCK_ID})`.execute(conn);
      }
      await conn.schema.createTable('schema_migrations').ifNotExists()
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'bigint', (c) => c.notNull())
        .execute();
      const done = await conn.selectFrom('schema_migrations').select(['version']).execute();
      const doneVersions = new Set(done.map((r) => Number(r.version)));
      const known = latestVersion(migrations);
      const newest = Math.max(0, ...doneVersions);
      if (newest > known) {
        throw new SchemaTooNewError(
          `The database is at schema version ${newest}, newer than this release knows (${known}). ` +
            'Run the newer Rollcall release, or restore a backup taken before the upgrade.',
        );
      }
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (doneVersions.has(migration.version)) continue;
        await migration.up(conn, engine);
        await conn.insertInto('schema_migrations')
          .values({ version: migration.version, name: migration.name, applied_at: Date.now() })
          .execute();
        applied.push({ version: migration.version, name: migration.name });
      }
      // Under the same lock: a database moved to another server numbers its event changes again.
      if (engine === 'postgres' && (doneVersions.has(EVENT_FEED_SERVER_VERSION) || applied.some((m) => m.version === EVENT_FEED_SERVER_VERSION))) {
        await alignEventFeedWithServer(conn);
      }
      await sql.raw('commit').execute(conn);
    } catch (error) {
      await sql.raw('rollback').execute(conn);
      throw error;
    }
  });
  return { applied, currentVersion: latestVersion(migrations) };
}

/** The schema version the database is at, or 0 before the first migration. */
export async function currentSchemaVersion(db: Kysely<Schema>): Promise<number> {
  try {
    const row = await db.selectFrom('schema_migrations').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
    return Number(row?.v ?? 0);
  } catch {
    return 0;
  }
}
