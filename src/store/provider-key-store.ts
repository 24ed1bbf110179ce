// Data access for the generations of provider idempotency keys (migration 015): the key a bot
// provider adapter sends next for a launch whose own key holds a cached failure.
import type { KeyGenerations } from '../adapters/bot-providers/provider-options.ts';
import type { Db } from './event-store.ts';

/** Rows not written for this long are dropped: every provider's idempotency cache has expired. */
const KEEP_MS = 24 * 3_600_000;

export async function findKeyGeneration(db: Db, key: string): Promise<number> {
  const row = await db.selectFrom('provider_key_generations').select('generation').where('idempotency_key', '=', key).executeTakeFirst();
  return row ? Number(row.generation) : 0;
}

/** Records that the key moved on to `generation`; a generation already further on is kept. */
export async function recordKeyGeneration(db: Db, key: string, generation: number, nowMs: number): Promise<void> {
  await db.insertInto('provider_key_generations')
    .values({ idempotency_key: key, generation, updated_at_ms: nowMs })
    .onConflict((oc) => oc.column('idempotency_key')
      .doUpdateSet((eb) => ({ generation: eb.ref('excluded.generation'), updated_at_ms: eb.ref('excluded.updated_at_ms') }))
      .where('provider_key_generations.generation', '<', (eb) => eb.ref('excluded.generation')))
    .execute();
  // Moving on is rare (an empty pool), so the rows of long-finished keys go here.
  await db.deleteFrom('provider_key_generations').where('updated_at_ms', '<', nowMs - KEEP_MS).execute();
}

/** The generations kept in the database: shared by every instance, kept across restarts. */
export function storedKeyGenerations(db: Db, now: () => number): KeyGenerations {
  return {
    current: (key) => findKeyGeneration(db, key),
    moveOn: (key, generation) => recordKeyGeneration(db, key, generation, now()),
  };
}
