// How SQLite reads a user's webhook deliveries for GET /webhooks/deliveries and GET /webhooks/urls:
// the queries those routes send, caught as they go, are explained (EXPLAIN QUERY PLAN), so the
// test is of the plan, not of a timing. A page after a cursor must seek webhook_deliveries_user to
// the cursor (user_id=? AND id<?), not start at the user's newest row and walk down to it, which
// makes a deep page cost as much as every row above it. SQLite only: PostgreSQL is given its own
// condition (see src/db/user-deliveries-range.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createQueryId, sql, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { startTestRollcall, TEST_ENGINE, type TestRollcall } from '../support/harness.ts';
import { encodeCursor } from '../../src/services/paging-cursor.ts';

const ROWS = 2_000;
let rc: TestRollcall;
let user: { auth: string; userId: string };
let other: { auth: string; userId: string };
/** The reads of webhook_deliveries sent while `catching` is set. */
let caught: RootOperationNode[] = [];
let catching = false;
const catcher: KyselyPlugin = {
  transformQuery: (args) => {
    const node = args.node as { kind: string; from?: { froms?: { table?: { identifier?: { name?: string } } }[] } };
    if (catching && node.kind === 'SelectQueryNode' && node.from?.froms?.some((f) => f.table?.identifier?.name === 'webhook_deliveries')) caught.push(args.node);
    return args.node;
  },
  transformResult: async (args) => args.result,
};

async function plansOf(method: 'GET', path: string): Promise<{ sql: string; plan: string[] }[]> {
  caught = [];
  catching = true;
  const res = await rc.request(method, path, { auth: user.auth });
  catching = false;
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return caught.map((node) => {
    const compiled = rc.database.db.getExecutor().compileQuery(node, createQueryId());
    const rows = rc.database.sqlite!.prepare(`explain query plan ${compiled.sql}`).all(...(compiled.parameters as (string | number | null)[])) as { detail: string }[];
    return { sql: compiled.sql, plan: rows.map((r) => r.detail) };
  });
}

const skip = TEST_ENGINE !== 'sqlite' ? 'query plans are SQLite\'s' : false;

before(async () => {
  if (skip) return;
  rc = await startTestRollcall({ plugins: [catcher] });
  user = await rc.newUser('deep');
  other = await rc.newUser('after');
  const db = rc.database.db;
  // The user's rows, then another user's (so the user's are not the table's newest).
  for (const owner of [user.userId, other.userId]) {
    for (let s = 0; s < ROWS; s += 500) {
      const rows = [];
      for (let i = s; i < s + 500; i++) {
        rows.push({ message_id: `msg_${owner}_${i}`, user_id: owner, bot_id: `bot_${owner}_${i % 20}`, url: 'https://hooks.example/x', payload: '{"event":"bot.status_change"}', state: i % 7 === 0 ? 'failed' : 'delivered', attempts: 1, next_attempt_at_ms: 0, lease_until_ms: null, last_error: i % 7 === 0 ? 'HTTP 422' : null, created_at: i, delivered_at: i % 7 === 0 ? null : i });
      }
      await db.insertInto('webhook_deliveries').values(rows).execute();
    }
  }
  await sql`analyze`.execute(db);
});
after(async () => { if (!skip) await rc.close(); });

test('a page after a cursor seeks the user\'s index to the cursor, under any filter', { skip }, async () => {
  const { lo } = (await rc.database.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.min('id').as('lo')).where('user_id', '=', user.userId).executeTakeFirstOrThrow()) as { lo: number };
  const cursor = encodeURIComponent(encodeCursor({ d: Number(lo) + 100 }));
  for (const filter of ['', '&status=delivered', '&status=failing', '&status=failed']) {
    const reads = await plansOf('GET', `/api/v1/webhooks/deliveries?limit=50&cursor=${cursor}${filter}`);
    const listing = reads.filter((r) => r.plan.some((line) => line.includes('webhook_deliveries_user')));
    assert.equal(listing.length, 1, `one read by the user's index for ${filter || 'no filter'}: ${JSON.stringify(reads)}`);
    assert.match(listing[0]!.plan.join('\n'), /SEARCH webhook_deliveries USING INDEX webhook_deliveries_user \(user_id=\? AND id<\?\)/, `${filter || 'no filter'}: ${JSON.stringify(listing[0])}`);
    assert.doesNotMatch(listing[0]!.plan.join('\n'), /TEMP B-TREE/, 'read in the index\'s order, not sorted');
  }
});

test('the first page and the URLs\' recent messages start at the user\'s newest row', { skip }, async () => {
  for (const path of ['/api/v1/webhooks/deliveries?limit=50', '/api/v1/webhooks/urls']) {
    const reads = await plansOf('GET', path);
    const byUser = reads.filter((r) => r.plan.some((line) => line.includes('webhook_deliveries_user')));
    assert.ok(byUser.length >= 1, `${path} reads by the user's index: ${JSON.stringify(reads)}`);
    for (const read of byUser) {
      assert.match(read.plan.join('\n'), /USING (COVERING )?INDEX webhook_deliveries_user \(user_id=\?( AND id<\?)?\)/, `${path}: ${JSON.stringify(read)}`);
      assert.doesNotMatch(read.plan.join('\n'), /TEMP B-TREE/, `${path}: read in the index's order, not sorted`);
    }
  }
});
