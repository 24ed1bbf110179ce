// Shutting down when a part refuses to stop: every later part is still stopped, the database last,
// and the failure names the part. Before, close() stopped at the first part that threw and left
// the database open (SQLite's file and PostgreSQL's connections held until the process died).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createRollcall } from '../../src/container.ts';
import { noRuntime } from '../../src/adapters/bot-runtimes/bot-runtime.ts';
import { CloseError } from '../../src/lib/close-in-order.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createTestDatabase, TEST_ENGINE, testConfig } from '../support/harness.ts';

test(`a runtime client that fails to close does not keep the database open (${TEST_ENGINE})`, async () => {
  const testDatabase = await createTestDatabase();
  try {
    const database = await testDatabase.open();
    const rollcall = await createRollcall(testConfig({ DATABASE_URL: testDatabase.url }), {
      database,
      logger: createLogger('silent'),
      collectDefaultMetrics: false,
      runtime: { ...noRuntime, close: async () => { throw new Error('runtime connections would not close'); } },
    });
    await rollcall.startBackground();
    await sql`select 1`.execute(database.db);

    const error = await rollcall.close().then(() => null, (e: unknown) => e);
    assert.ok(error instanceof CloseError, `expected a CloseError, got ${String(error)}`);
    assert.deepEqual(error.failedSteps, ['bot runtime client']);
    assert.match(error.message, /runtime connections would not close/);
    // The database, closed after the failing step: it answers no more.
    await assert.rejects(sql`select 1`.execute(database.db));
    assert.equal(rollcall.dispatcher.isRunning, false);
  } finally {
    await testDatabase.drop();
  }
});
