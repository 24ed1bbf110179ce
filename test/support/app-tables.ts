// The app's tables in a test database, for tests that read every table (secrets at rest, the
// OpenAPI suite's database fingerprint).
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';

/**
 * The app's tables, sorted. On PostgreSQL only the test's own schema (`searchPath`) is listed:
 * introspecting the whole database races with other test files dropping their schemas ("schema
 * ... does not exist"). Kysely's own bookkeeping tables are left out on both engines.
 */
export async function appTableNames(database: Database, searchPath: string | undefined): Promise<string[]> {
  const names = searchPath
    ? (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = ${searchPath} and tablename not like 'kysely\_%'`.execute(database.db)).rows.map((t) => t.name)
    : (await database.db.introspection.getTables()).map((t) => t.name);
  return names.sort();
}
