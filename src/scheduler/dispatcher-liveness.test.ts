// The PostgreSQL liveness lock's connection is given back to the pool once, whatever order a lost
// connection and a stop come in. The client below stands in for a pg pool client: it emits
// 'error' when its connection is lost, and, as pg-pool does, throws on a second release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { Database } from '../db/database.ts';
import { createLogger } from '../lib/logger.ts';
import { createDispatcherLiveness } from './dispatcher-liveness.ts';

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

function livenessOn(client: PoolClientDouble) {
  const pool = { connect: async () => client } as unknown as pg.Pool;
  return createDispatcherLiveness({ engine: 'postgres', pool } as unknown as Database, 'dsp_test', createLogger('silent'));
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
