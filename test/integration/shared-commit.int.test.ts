// Database.transact (src/db/shared-commit.ts on SQLite, a plain transaction on PostgreSQL), on a
// real database: a member that fails is undone alone, on both engines; on SQLite the transactions
// ready in one turn share one commit, are not visible to another connection until it, are each
// visible when they resolve, are told of a failure only once the group has ended, and all fail
// when the commit fails, when the disk fills, or when the transaction ends under a member.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { GROUP_LIMITS, SharedCommit } from '../../src/db/shared-commit.ts';
import { createTestDatabase, TEST_ENGINE, type TestDatabase } from '../support/harness.ts';

let testDb: TestDatabase;
let database: Database;

before(async () => {
  testDb = await createTestDatabase();
  database = await testDb.open();
  await sql`create table shared_commit_parent (id integer primary key, label text not null)`.execute(database.db);
  // Checked at commit only: a way to make a commit fail after every member has succeeded.
  await sql`create table shared_commit_child (id integer primary key, parent_id integer not null references shared_commit_parent (id) deferrable initially deferred)`.execute(database.db);
});
after(async () => {
  await database.close();
  await testDb.drop();
});

async function labels(): Promise<string[]> {
  const rows = await sql<{ label: string }>`select label from shared_commit_parent order by id`.execute(database.db);
  return rows.rows.map((row) => row.label);
}

async function clear(): Promise<void> {
  await sql`delete from shared_commit_child`.execute(database.db);
  await sql`delete from shared_commit_parent`.execute(database.db);
}

const insertParent = (id: number, label: string) => (trx: Parameters<Parameters<Database['transact']>[0]>[0]) =>
  sql`insert into shared_commit_parent (id, label) values (${id}, ${label})`.execute(trx).then(() => label);

/** On SQLite a SharedCommit without the time limit, so that a slow machine cannot split the group. */
function untimedTransact(): Database['transact'] {
  if (TEST_ENGINE !== 'sqlite') return database.transact;
  const commits = new SharedCommit(database.db, () => database.sqlite!.isTransaction, { ...GROUP_LIMITS, maxMs: Number.POSITIVE_INFINITY });
  return (work) => commits.run(work);
}

test('a transaction that fails is undone alone; the ones beside it are stored', async () => {
  await clear();
  const transact = untimedTransact();
  const failing = (id: number, error: Error) => async (trx: Parameters<Parameters<Database['transact']>[0]>[0]) => {
    await insertParent(id, `failing ${id}`)(trx);
    throw error;
  };
  const firstFails = new Error('the first one fails after writing');
  const thirdFails = new Error('the third one fails after writing');
  // On SQLite the first of a group runs without a savepoint (its failure rolls the transaction
  // back whole, and the others run in the next one) and the later ones behind one each.
  const results = await Promise.allSettled([
    transact(failing(1, firstFails)),
    transact(insertParent(2, 'second')),
    transact(failing(3, thirdFails)),
    transact(insertParent(4, 'fourth')),
  ]);
  assert.deepEqual(results.map((result) => result.status), ['rejected', 'fulfilled', 'rejected', 'fulfilled']);
  assert.equal((results[0] as PromiseRejectedResult).reason, firstFails, 'each failing member gets its own error');
  assert.equal((results[2] as PromiseRejectedResult).reason, thirdFails);
  assert.deepEqual(await labels(), ['second', 'fourth']);
});

test('a uniqueness violation fails its own transaction only, and the transaction can run again after it', async () => {
  await clear();
  const results = await Promise.allSettled([database.transact(insertParent(7, 'one')), database.transact(insertParent(7, 'other'))]);
  // On SQLite the first queued wins; on PostgreSQL whichever inserts first.
  const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  assert.equal(won.length, 1, 'exactly one of the two is stored');
  assert.equal(await database.transact(insertParent(8, 'after')), 'after');
  assert.deepEqual(await labels(), [won[0], 'after']);
});

describe('one commit for the transactions ready in one turn (SQLite)', { skip: TEST_ENGINE !== 'sqlite' ? 'SQLite only: PostgreSQL groups commits in the server' : false }, () => {
  let observer: DatabaseSync;
  before(() => {
    observer = new DatabaseSync(testDb.url.slice('sqlite:'.length), { readOnly: true });
  });
  after(() => observer.close());
  const seenByObserver = () => (observer.prepare('select count(*) as n from shared_commit_parent').get() as { n: number }).n;
  const untimed = () => new SharedCommit(database.db, () => database.sqlite!.isTransaction, { ...GROUP_LIMITS, maxMs: Number.POSITIVE_INFINITY });

  test('none is visible to another connection until the last has run; each is when it resolves', async () => {
    await clear();
    const seenWhileRunning: number[] = [];
    const seenWhenResolved: number[] = [];
    const work = (id: number) => async (trx: Parameters<Parameters<Database['transact']>[0]>[0]) => {
      seenWhileRunning.push(seenByObserver());
      return insertParent(id, `member ${id}`)(trx);
    };
    // Separate transactions would each be committed before the next ran: the observer would see
    // 0, 1, 2, ... rows.
    const commits = untimed();
    const values = await Promise.all([1, 2, 3, 4, 5].map((id) => commits.run(work(id)).then((value) => {
      seenWhenResolved.push(seenByObserver());
      return value;
    })));
    assert.deepEqual(values, ['member 1', 'member 2', 'member 3', 'member 4', 'member 5']);
    assert.deepEqual(seenWhileRunning, [0, 0, 0, 0, 0], 'the members ran inside one transaction');
    assert.deepEqual(seenWhenResolved, [5, 5, 5, 5, 5], 'each resolved only once all were committed');
  });

  test('a member that fails is told so only after the commit: it may have failed on another member\'s write', async () => {
    await clear();
    const commits = untimed();
    let seenWhenRejected = -1;
    const results = await Promise.allSettled([
      commits.run(insertParent(1, 'takes the key')),
      commits.run(insertParent(1, 'wants the same key')).catch((error: unknown) => {
        seenWhenRejected = seenByObserver();
        throw error;
      }),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.equal(seenWhenRejected, 1, 'the row it lost to was committed when it was told');
  });

  test('when the shared commit fails, every member fails with its error, also one that failed on its own, and none is stored', async () => {
    await clear();
    const commits = untimed();
    const results = await Promise.allSettled([
      commits.run(insertParent(1, 'valid on its own')),
      // Fails on the first member's write, which the commit then undoes.
      commits.run(insertParent(1, 'loses to the first')),
      // A child without its parent: accepted now, refused by the commit (a deferred foreign key).
      commits.run((trx) => sql`insert into shared_commit_child (id, parent_id) values (1, 999)`.execute(trx).then(() => 'orphan')),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected', 'rejected']);
    for (const result of results) assert.match(String((result as PromiseRejectedResult).reason), /FOREIGN KEY/i, 'the group\'s error, not the member\'s own');
    assert.deepEqual(await labels(), []);
    assert.equal(await database.transact(insertParent(2, 'next group')), 'next group', 'the next group commits normally');
  });

  test('when the disk fills in a later member, SQLite undoes the whole group: every member gets that error and none is stored', async () => {
    await clear();
    const raw = database.sqlite!;
    const commits = untimed();
    const results = await Promise.allSettled([
      commits.run(insertParent(1, 'fits')),
      commits.run(async (trx) => {
        // No room to grow from here on: the large row below needs new pages.
        raw.exec(`pragma max_page_count = ${(raw.prepare('pragma page_count').get() as { page_count: number }).page_count}`);
        return insertParent(2, 'x'.repeat(2_000_000))(trx);
      }),
    ]);
    raw.exec('pragma max_page_count = 1073741823');
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected']);
    for (const result of results) assert.match(String((result as PromiseRejectedResult).reason), /full/i);
    assert.equal(raw.isTransaction, false);
    assert.deepEqual(await labels(), []);
    assert.equal(await database.transact(insertParent(3, 'next group')), 'next group', 'the next group commits normally');
  });

  test('a member that goes on after SQLite ended the transaction fails the group instead of committing outside it', async () => {
    await clear();
    const commits = untimed();
    const results = await Promise.allSettled([
      commits.run(insertParent(1, 'first')),
      commits.run(async (trx) => {
        // As if SQLite had rolled the transaction back under this member and it had caught the error.
        await sql`rollback`.execute(trx);
        return 'carried on';
      }),
      commits.run(insertParent(3, 'third')),
    ]);
    // The first two are the group that was lost; the third had not been taken and runs in the next.
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected', 'fulfilled']);
    assert.match(String((results[0] as PromiseRejectedResult).reason), /ended inside a member/);
    assert.deepEqual(await labels(), ['third']);
  });

  test('groups commit in the order they were queued, and a group takes at most 64', async () => {
    await clear();
    // Without a time limit, so that the count decides where a group ends.
    const commits = untimed();
    const seen: number[] = [];
    const ids = Array.from({ length: 100 }, (_, index) => index + 1);
    await Promise.all(ids.map((id) => commits.run(async (trx) => {
      seen.push(seenByObserver());
      return insertParent(id, `member ${id}`)(trx);
    })));
    assert.equal(seenByObserver(), 100);
    assert.deepEqual(seen, [...Array(64).fill(0), ...Array(36).fill(64)]);
  });

  test('with the time limit, a long queue still commits in order, in groups of at most 64', async () => {
    await clear();
    const seen: number[] = [];
    const ids = Array.from({ length: 200 }, (_, index) => index + 1);
    await Promise.all(ids.map((id) => database.transact(async (trx) => {
      seen.push(seenByObserver());
      return insertParent(id, `member ${id}`)(trx);
    })));
    // Each member sees what earlier groups committed: the counts never fall, and each group's
    // count is where it started.
    assert.deepEqual([...seen].sort((a, b) => a - b), seen);
    const groups = [...new Set(seen)];
    assert.ok(groups.length <= 100, `200 transactions ready at once share commits (${groups.length} commits)`);
    for (const [index, start] of groups.entries()) {
      const size = (groups[index + 1] ?? 200) - start;
      assert.equal(seen.filter((count) => count === start).length, size, `the group that starts at ${start} holds ${size}`);
      assert.ok(size <= 64, `a group of ${size}`);
    }
  });
});
