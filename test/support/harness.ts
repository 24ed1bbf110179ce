// Builds a real Rollcall for an integration test file: a fresh SQLite file, or a fresh PostgreSQL
// schema, chosen by ROLLCALL_TEST_ENGINE. Only the outside world is ever faked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { KyselyPlugin } from 'kysely';
import { parseConfig, type Config } from '../../src/config.ts';
import { openDatabase, type Database, type Engine } from '../../src/db/database.ts';
import { createRollcall, type Rollcall, type RollcallOverrides } from '../../src/container.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { createLogger } from '../../src/lib/logger.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { randomToken } from '../../src/lib/ids.ts';
import { storedInvariantViolations } from './stored-invariants.ts';

export const TEST_ENGINE: Engine = process.env.ROLLCALL_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_POSTGRES_URL = process.env.ROLLCALL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  engine: Engine;
  url: string;
  searchPath?: string;
  /** DATABASE_URL for a process of its own (the server, the command line): on PostgreSQL it names the test's schema. */
  processUrl: string;
  open(options?: { poolSize?: number }): Promise<Database>;
  drop(): Promise<void>;
}

/** A database of its own for one test file (or one test). */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (TEST_ENGINE === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-test-'));
    const url = `sqlite:${join(dir, 'rollcall.db')}`;
    return { engine: 'sqlite', url, processUrl: url, open: () => openDatabase(url), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `t_${randomToken(12).toLowerCase()}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`Cannot reach PostgreSQL at ${TEST_POSTGRES_URL} (${(error as Error).message}). Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`);
  }
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = TEST_POSTGRES_URL;
  return {
    engine: 'postgres',
    url,
    searchPath: schema,
    processUrl: `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    open: (options = {}) => openDatabase(url, { searchPath: schema, ...options }),
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

export interface TestRollcall extends Rollcall {
  testDatabase: TestDatabase;
  /** Creates a user with an API key; returns the Authorization header value. */
  newUser(name?: string): Promise<{ userId: string; auth: string }>;
  request(method: string, url: string, options?: { auth?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
}

/** The settings that point Rollcall at the fake Google (`googleBase`) and fake Graph (`microsoftBase`). */
export function fakeCalendarUrls(googleBase: string, microsoftBase: string): Record<string, string> {
  return {
    GOOGLE_OAUTH_TOKEN_URL: `${googleBase}/token`, GOOGLE_CALENDAR_API_URL: `${googleBase}/calendar/v3`,
    MICROSOFT_LOGIN_URL: `${microsoftBase}/common`, MICROSOFT_GRAPH_URL: `${microsoftBase}/v1.0`,
  };
}

export function testConfig(settings: Record<string, string> = {}): Config {
  // The per-key rate limit is off unless a test asks for it (rate-limit.int.test.ts does): tests
  // drive thousands of requests through one key on a clock that barely moves.
  return parseConfig({ LOG_LEVEL: 'silent', DATABASE_URL: 'sqlite::memory:', RATE_LIMIT_PER_MINUTE: '0', ...settings });
}

export async function startTestRollcall(options: { clock?: Clock; settings?: Record<string, string>; overrides?: RollcallOverrides; background?: boolean; plugins?: KyselyPlugin[] } = {}): Promise<TestRollcall> {
  const testDatabase = await createTestDatabase();
  const opened = await testDatabase.open();
  // Plugins see every query of the process (fault tests use one to fail a chosen statement).
  const database = (options.plugins ?? []).reduce((d, plugin) => ({ ...d, db: d.db.withPlugin(plugin) }), opened);
  const config = testConfig({ DATABASE_URL: testDatabase.url, ...options.settings });
  const rollcall = await createRollcall(config, {
    database,
    logger: createLogger('silent'),
    collectDefaultMetrics: false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.overrides,
  });
  if (options.background) await rollcall.startBackground();
  return {
    ...rollcall,
    testDatabase,
    async close() {
      // A fault test may have taken the database away; the rules are checked whenever it answers.
      const violations = await storedInvariantViolations(database).catch(() => []);
      await rollcall.close();
      await testDatabase.drop();
      if (violations.length > 0) throw new Error(`stored rows break an invariant:\n${violations.join('\n')}`);
    },
    async newUser(name = `user-${randomToken(8)}`) {
      const { key, userId } = await createApiKey(database.db, name, rollcall.clock, { secretBox: rollcall.secretBox });
      return { userId, auth: `Token ${key}` };
    },
    async request(method, url, requestOptions = {}) {
      const headers: Record<string, string> = { ...requestOptions.headers };
      if (requestOptions.auth) headers.authorization = requestOptions.auth;
      const response = await rollcall.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(requestOptions.body !== undefined ? { payload: typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body), headers: { 'content-type': 'application/json', ...headers } } : {}),
      });
      let body: unknown = response.body;
      try {
        body = response.json();
      } catch {
        // not JSON (metrics, docs)
      }
      return { status: response.statusCode, body, headers: response.headers as Record<string, unknown> };
    },
  };
}
