// A database of its own for a migration test: migrated up to (not including) a version, with one
// user, handed to the test and dropped afterwards. The test then writes rows as the older schema
// had them and migrates the rest of the way.
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import { createTestDatabase } from './harness.ts';

export async function withSchemaBefore(version: number, userId: string, work: (database: Database) => Promise<void>): Promise<void> {
  const testDb = await createTestDatabase();
  const database = await testDb.open();
  try {
    await migrate(database.db, database.engine, MIGRATIONS.filter((m) => m.version < version));
    await database.db.insertInto('users').values({ id: userId, name: userId, webhook_secret: 'whsec_x', webhook_secret_rotated_at: null, created_at: 0 }).execute();
    await work(database);
  } finally {
    await database.close();
    await testDb.drop();
  }
}
