// WAL checkpoints off the event loop (src/db/sqlite-checkpoints.ts), on a real SQLite file: the
// server's connection no longer copies the WAL back into the database file inside its commits; the
// worker thread does, within a tick or two; the server's connection still does past the fallback
// size; and the worker stops cleanly with a last checkpoint.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { CHECKPOINT_EVERY_MS, FALLBACK_PAGES, WAL_SIZE_LIMIT_BYTES, startBackgroundCheckpoints } from '../../src/db/sqlite-checkpoints.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { TEST_ENGINE } from '../support/harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LogLine { level: number; msg: string }

/** A fresh SQLite file with one table; `pages` WAL pages written per call of `write`. */
async function openScratch(dir: string): Promise<{ database: Database; file: string; write: (pages: number) => void }> {
  const file = join(dir, `scratch-${Math.random().toString(36).slice(2)}.db`);
  const database = await openDatabase(`sqlite:${file}`);
  const raw = database.sqlite!;
  raw.exec('create table filler (id integer primary key, blob blob not null)');
  const insert = raw.prepare('insert into filler (blob) values (?)');
  // A 3,000-byte row fills most of a 4 KB page: one row, about one new WAL page.
  const write = (pages: number) => {
    raw.exec('begin');
    for (let i = 0; i < pages; i++) insert.run(new Uint8Array(3000).fill(i % 251));
    raw.exec('commit');
  };
  return { database, file, write };
}

describe('WAL checkpoints on a worker thread (SQLite)', { skip: TEST_ENGINE !== 'sqlite' ? 'SQLite only: PostgreSQL checkpoints in its own processes' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-checkpoints-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('without the worker, 2,000 pages stay in the WAL; with it they reach the database file within a tick or two', async () => {
    const logs: LogLine[] = [];
    const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });

    // The control: the same writes, the fallback size set, no worker. Nothing copies them back.
    const control = await openScratch(dir);
    control.database.sqlite!.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_PAGES}`);
    const controlBefore = statSync(control.file).size;
    control.write(2000);
    await sleep(CHECKPOINT_EVERY_MS * 2.5);
    assert.equal(statSync(control.file).size, controlBefore, 'without the worker the database file does not grow');
    await control.database.close();

    const scratch = await openScratch(dir);
    const checkpoints = startBackgroundCheckpoints(scratch.database.sqlite!, scratch.file, logger);
    try {
      const autocheckpoint = scratch.database.sqlite!.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number };
      assert.equal(autocheckpoint.wal_autocheckpoint, FALLBACK_PAGES, 'the server connection checkpoints only past the fallback size');
      const before = statSync(scratch.file).size;
      const started = performance.now();
      scratch.write(2000);
      // 1,000 pages is where the server connection would have checkpointed inside that commit.
      assert.equal(statSync(scratch.file).size, before, 'the commit itself copied nothing back');
      while (statSync(scratch.file).size < before + 1500 * 4096 && performance.now() - started < CHECKPOINT_EVERY_MS * 8) await sleep(20);
      assert.ok(statSync(scratch.file).size >= before + 1500 * 4096, `the worker copied the pages into the database file (size ${statSync(scratch.file).size})`);
      // A tick or two, with room for a busy machine.
      assert.ok(performance.now() - started < CHECKPOINT_EVERY_MS * 5, 'within a few ticks');
      // The data is there for the server's connection, read back after the checkpoint.
      const count = scratch.database.sqlite!.prepare('select count(*) as c from filler').get() as { c: number };
      assert.equal(count.c, 2000);
    } finally {
      await checkpoints.stop();
      await scratch.database.close();
    }
    assert.deepEqual(logs.filter((l) => l.level >= 40).map((l) => l.msg), [], 'no warnings when all is well');
  });

  test('past the fallback size the server connection checkpoints by itself (the worker gone)', async () => {
    const scratch = await openScratch(dir);
    const logs: LogLine[] = [];
    const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
    const checkpoints = startBackgroundCheckpoints(scratch.database.sqlite!, scratch.file, logger);
    await checkpoints.stop();
    try {
      const before = statSync(scratch.file).size;
      scratch.write(FALLBACK_PAGES + 200);
      assert.ok(statSync(scratch.file).size > before + FALLBACK_PAGES * 4096 * 0.9, 'the commit past the fallback size checkpointed');
    } finally {
      await scratch.database.close();
    }
  });

  test('a WAL grown by a burst is cut back to the size limit once it starts over', async () => {
    const scratch = await openScratch(dir);
    const logger = createLogger('silent');
    const checkpoints = startBackgroundCheckpoints(scratch.database.sqlite!, scratch.file, logger);
    const walSize = () => statSync(`${scratch.file}-wal`).size;
    try {
      const burstPages = Math.ceil((WAL_SIZE_LIMIT_BYTES * 1.5) / 4096);
      scratch.write(burstPages);
      assert.ok(walSize() > WAL_SIZE_LIMIT_BYTES, `the burst grew the WAL past the limit (${walSize()} bytes)`);
      // The worker copies the burst into the database file; the next commit starts the log over.
      const started = performance.now();
      let settled = false;
      while (!settled && performance.now() - started < CHECKPOINT_EVERY_MS * 8) {
        await sleep(CHECKPOINT_EVERY_MS / 2);
        scratch.write(1);
        settled = walSize() <= WAL_SIZE_LIMIT_BYTES;
      }
      assert.ok(settled, `the WAL was cut back to at most ${WAL_SIZE_LIMIT_BYTES} bytes (${walSize()} bytes)`);
    } finally {
      await checkpoints.stop();
      await scratch.database.close();
    }
  });

  test('a worker that cannot start is reported, and stop() still returns at once', { timeout: 15_000 }, async () => {
    const scratch = await openScratch(dir);
    const logs: LogLine[] = [];
    const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
    // A path the worker cannot open: it fails at start and exits.
    const checkpoints = startBackgroundCheckpoints(scratch.database.sqlite!, join(dir, 'missing-directory', 'x.db'), logger);
    const started = performance.now();
    while (!logs.some((l) => l.msg.includes('worker stopped')) && performance.now() - started < 10_000) await sleep(20);
    assert.ok(logs.some((l) => l.level >= 50 && l.msg.includes('checkpoint worker failed')), 'the failure is logged as an error');
    assert.ok(logs.some((l) => l.level === 40 && l.msg.includes('worker stopped')), 'and that the server checkpoints by itself from now on');
    const stopping = performance.now();
    await checkpoints.stop();
    assert.ok(performance.now() - stopping < 1000, 'stop() did not wait for an exit that already happened');
    await scratch.database.close();
  });

  test('stop() makes a last checkpoint and ends the worker', async () => {
    const scratch = await openScratch(dir);
    const logger = createLogger('silent');
    const checkpoints = startBackgroundCheckpoints(scratch.database.sqlite!, scratch.file, logger);
    const before = statSync(scratch.file).size;
    scratch.write(500);
    await checkpoints.stop();
    assert.ok(statSync(scratch.file).size >= before + 450 * 4096, 'the last checkpoint copied the pages back');
    await checkpoints.stop();
    await scratch.database.close();
  });
});
