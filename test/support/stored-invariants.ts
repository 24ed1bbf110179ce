// Rules about stored rows that no single constraint states, checked on every test database when its
// Rollcall closes: whatever a test file did, through whichever path, must leave them true.
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { LIVE_STATUSES } from '../../src/domain/bot-status.ts';

/** Rows that break a rule, described; empty when all hold. */
export async function storedInvariantViolations(database: Database): Promise<string[]> {
  const live = sql.join(LIVE_STATUSES.map((s) => sql.lit(s)));
  // live_key_hash is the deduplication key's hash exactly while the bot is live (migration 012).
  const keys = await sql<{ id: string; status: string; live_key_hash: string | null }>`
    select id, status, live_key_hash from bots
     where (status in (${live}) and (live_key_hash is null or live_key_hash <> deduplication_key_hash))
        or (status not in (${live}) and live_key_hash is not null)
  `.execute(database.db);
  return keys.rows.map((r) => `bot ${r.id} is ${r.status} with live_key_hash ${r.live_key_hash ?? 'null'}`);
}
