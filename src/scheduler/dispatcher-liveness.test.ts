// The PostgreSQL liveness lock's connection is given back to the pool once, whatever order a lost
// connection and a stop come in. The client below stands in for a pg pool client: it emits
// 'error' when its connection is lost, and, as pg-pool does, throws on a second release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { Database } from '../db/database.ts';
import { createLogger } from '../lib/logger.ts';
import { createDispatcherLiveness, MissingHolders, ORPHAN_GRACE_MS, OUTAGE_GRACE_MS } from './dispatcher-liveness.ts';

class PoolClientDouble extends EventEmitter {
  releases: boolean[] = [];
  /** What the next query does: answer, or lose the connection while it runs. */
  onQuery: (sql: string) => Promise<unknown> = async () => ({ rows: [] });
  query(sql: string): Promise<unknown> {
    return this.onQuery(sql);
  }
  release(destroy = false): void {
    if (this.releases.length > 0) throw new Error('Release called on client which has already been released to the pool.');
    this.releases.push(destroy);
  }
}

function livenessOn(client: PoolClientDouble, onLost: () => void = () => {}) {
  const pool = { connect: async () => client } as unknown as pg.Pool;
  return createDispatcherLiveness({ engine: 'postgres', pool } as unknown as Database, 'dsp_test', createLogger('silent'), onLost);
}

test('a stop gives the connection back once, after unlocking', async () => {
  const client = new PoolClientDouble();
  const liveness = livenessOn(client);
  await liveness.acquire();
  assert.equal(liveness.isHeld, true);
  await liveness.release();
  assert.deepEqual(client.releases, [false]);
  assert.equal(liveness.isHeld, false);
});

test('the connection lost while a stop unlocks: given back once, and the stop does not throw', async () => {
  const client = new PoolClientDouble();
  const liveness = livenessOn(client);
  await liveness.acquire();
  client.onQuery = async () => {
    client.emit('error', new Error('terminating connection due to administrator command'));
    throw new Error('Connection terminated unexpectedly');
  };
  await liveness.release();
  assert.deepEqual(client.releases, [true]);
});

test('the connection lost while idle: given back once, not held, and a later stop does nothing', async () => {
  const client = new PoolClientDouble();
  const liveness = livenessOn(client);
  await liveness.acquire();
  client.emit('error', new Error('terminating connection due to administrator command'));
  assert.equal(liveness.isHeld, false);
  await liveness.release();
  assert.deepEqual(client.releases, [true]);
});

test('the connection lost while running: the dispatcher is told at once, to take its lock again', async () => {
  const client = new PoolClientDouble();
  let lost = 0;
  const liveness = livenessOn(client, () => lost++);
  await liveness.acquire();
  client.emit('error', new Error('terminating connection due to idle-session timeout'));
  client.emit('error', new Error('a second error event changes nothing'));
  assert.deepEqual([lost, liveness.isHeld], [1, false]);
  await liveness.release();
  assert.equal(lost, 1, 'a stop is no loss');
});

test('a holder without its lock is dead only once it stayed without it for the grace; one that took it back meanwhile is not', () => {
  const missing = new MissingHolders();
  assert.deepEqual(missing.confirm(['a', 'b'], 10_000), []);
  assert.deepEqual(missing.confirm(['a', 'b'], 10_000 + ORPHAN_GRACE_MS - 1), []);
  // b took its lock back; a did not.
  assert.deepEqual(missing.confirm(['a'], 10_000 + ORPHAN_GRACE_MS), ['a']);
  // b lost it again later: its grace starts again.
  assert.deepEqual(missing.confirm(['a', 'b'], 10_000 + ORPHAN_GRACE_MS + 100), ['a']);
  assert.deepEqual(missing.confirm(['a', 'b'], 10_000 + 2 * ORPHAN_GRACE_MS + 100), ['a', 'b']);
});

test('after an outage every lock went with its connection: nobody is dead until the outage grace has passed', () => {
  const missing = new MissingHolders();
  missing.confirm(['a'], 0);
  missing.databaseReturned(50_000);
  assert.deepEqual(missing.confirm(['a'], 50_000 + ORPHAN_GRACE_MS), []);
  assert.deepEqual(missing.confirm(['a'], 50_000 + OUTAGE_GRACE_MS - 1), []);
  assert.deepEqual(missing.confirm(['a'], 50_000 + OUTAGE_GRACE_MS), ['a']);
});

test('a lost lock is taken again on a new connection by the liveness itself (not behind a busy cycle), retried while the database refuses; a stop ends that', async () => {
  const clients: PoolClientDouble[] = [];
  let refusals = 2;
  const pool = {
    connect: async () => {
      if (clients.length > 0 && refusals > 0) {
        refusals--;
        throw new Error('the database system is starting up');
      }
      const client = new PoolClientDouble();
      clients.push(client);
      return client;
    },
  } as unknown as pg.Pool;
  const liveness = createDispatcherLiveness({ engine: 'postgres', pool } as unknown as Database, 'dsp_retake', createLogger('silent'));
  await liveness.acquire();
  clients[0]!.emit('error', new Error('terminating connection due to administrator command'));
  assert.equal(liveness.isHeld, false);
  for (let i = 0; i < 100 && !liveness.isHeld; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(liveness.isHeld, true, 'held again after two refused connections');
  assert.equal(clients.length, 2);
  await liveness.release();
  clients[1]!.emit('error', new Error('lost after the stop'));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual([liveness.isHeld, clients.length], [false, 2], 'nothing taken after the stop');
});
