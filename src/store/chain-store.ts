// Data access for chain mode (recurring_chains, migration 008). Lock order, as everywhere: a
// chain row is locked before its series event, and the event before its bots.
import type { Engine } from '../db/database.ts';
import type { RecurringChainRow } from '../db/schema.ts';
import type { Db } from './event-store.ts';
import { sql } from 'kysely';
import { INSTANCE_SERIES_PREFIX } from '../domain/instance-series.ts';

export async function findChain(db: Db, seriesId: string, options: { engine?: Engine; forUpdate?: boolean } = {}): Promise<RecurringChainRow | undefined> {
  let query = db.selectFrom('recurring_chains').selectAll().where('series_event_id', '=', seriesId);
  if (options.forUpdate && options.engine === 'postgres') query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Creates the chain of a series or replaces its settings (an insert race is a unique violation the caller retries). */
export async function saveChain(db: Db, row: RecurringChainRow): Promise<void> {
  const existing = await findChain(db, row.series_event_id);
  if (!existing) {
    await db.insertInto('recurring_chains').values(row).execute();
    return;
  }
  const { series_event_id: _id, created_at: _created, ...changes } = row;
  await db.updateTable('recurring_chains').set(changes).where('series_event_id', '=', row.series_event_id).execute();
}

export async function updateChain(db: Db, seriesId: string, changes: Partial<Omit<RecurringChainRow, 'series_event_id'>>): Promise<void> {
  await db.updateTable('recurring_chains').set(changes).where('series_event_id', '=', seriesId).execute();
}

/** Stops a chain (the whole series was unscheduled); returns whether one was running. */
export async function disableChain(db: Db, seriesId: string, nowMs: number): Promise<boolean> {
  const result = await db.updateTable('recurring_chains').set({ is_enabled: 0, updated_at: nowMs })
    .where('series_event_id', '=', seriesId).where('is_enabled', '=', 1)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** How far before a chain's last look a series change still makes it due (see listDueChains). */
export const CHANGE_GRACE_MS = 2_000;

/**
 * Enabled chains with something to do: nothing booked yet, or the booked bot is no longer waiting
 * to join (launched, finished, cancelled) or its meeting is over. Chains told to wait (nothing
 * left to book) are skipped until their next check; a check set while the bot waits (an
 * occurrence passed for a key held by another meeting's bot) makes the chain due when it comes. Either way a chain is due at once when its
 * series (or one of its occurrences' overrides, or of an Outlook series its instances) changed
 * since the chain last looked: a rule extended or an occurrence brought back may have given a
 * waiting chain something to book, and an occurrence moved ahead of the one whose bot the chain
 * waits for needs its bot before that one launches (RecurringChains.#bookOutOfTurn). Read here
 * rather than written by the change: the chain loop locks a chain before its series, a change the
 * other way round. Each of the three looks is an index lookup (primary key, events_series,
 * events_provider_series), as every chain with a waiting bot asks them on every pass.
 */
export async function listDueChains(db: Db, engine: Engine, nowMs: number, limit: number): Promise<string[]> {
  const chainId = sql.ref<string>('recurring_chains.series_event_id');
  // An Outlook chain's id is "instances:<calendar id>:<provider series id>" (instance-series.ts);
  // a calendar id has no colon.
  const rest = sql<string>`substr(${chainId}, ${INSTANCE_SERIES_PREFIX.length + 1})`;
  const colon = engine === 'postgres' ? sql<number>`strpos(${rest}, ':')` : sql<number>`instr(${rest}, ':')`;
  const rows = await db.selectFrom('recurring_chains')
    .leftJoin('bots', 'bots.id', 'recurring_chains.current_bot_id')
    .select('recurring_chains.series_event_id')
    .where('recurring_chains.is_enabled', '=', 1)
    .where((eb) => {
      // A change stamped up to CHANGE_GRACE_MS before the chain's last look may have committed
      // after it (a transaction's clock is read before its commit; instances' clocks differ a
      // little): looked at once more rather than missed. One stamped earlier still (a long sync
      // transaction) is missed here, and found by the chain's own next check: within the day a
      // chain whose series is over rests (chain-rest.ts), sooner for any other.
      const changedSince = eb.selectFrom('events').select('events.id').where('events.updated_at', '>', sql<number>`recurring_chains.updated_at - ${sql.lit(CHANGE_GRACE_MS)}`);
      const seriesChanged = eb.or([
        eb.exists(changedSince.whereRef('events.id', '=', 'recurring_chains.series_event_id')),
        eb.exists(changedSince.whereRef('events.recurring_event_id', '=', 'recurring_chains.series_event_id')),
        eb.and([
          eb('recurring_chains.series_event_id', 'like', `${INSTANCE_SERIES_PREFIX}%`),
          eb.exists(changedSince
            .where('events.calendar_id', '=', sql<string>`substr(${rest}, 1, ${colon} - 1)`)
            .where('events.provider_series_id', '=', sql<string>`substr(${rest}, ${colon} + 1)`)),
        ]),
      ]);
      const checkDue = eb.or([eb('recurring_chains.next_check_at_ms', 'is', null), eb('recurring_chains.next_check_at_ms', '<=', nowMs)]);
      const botNotWaiting = eb.or([
        eb('recurring_chains.current_bot_id', 'is', null),
        eb('bots.id', 'is', null),
        eb('bots.status', '<>', 'Scheduled'),
        eb('bots.meeting_end_ms', '<=', nowMs),
      ]);
      // A check set while the bot waits (an occurrence passed for a key another meeting's bot
      // holds, or a step that failed) comes due whether or not the bot still waits.
      const checkSetAndDue = eb.and([eb('recurring_chains.next_check_at_ms', 'is not', null), eb('recurring_chains.next_check_at_ms', '<=', nowMs)]);
      return eb.or([seriesChanged, eb.and([checkDue, botNotWaiting]), checkSetAndDue]);
    })
    .orderBy('recurring_chains.series_event_id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.series_event_id);
}

/**
 * A series split at the provider ("this and following"): chain mode goes on in the continuation,
 * from where the old chain stands (its bot and position), so that the continuation's occurrences
 * are booked one by one once that bot has launched; the old chain books what is left of the old
 * series. A continuation with a chain of its own keeps it. The slots the old chain served stay
 * behind: they are the old series' weeks, and the continuation's, moved, may fall near them.
 */
export async function carryChain(db: Db, fromSeriesId: string, toSeriesId: string, nowMs: number): Promise<void> {
  const chain = await findChain(db, fromSeriesId);
  if (!chain || chain.is_enabled !== 1) return;
  await db.insertInto('recurring_chains')
    .values({ ...chain, series_event_id: toSeriesId, passed_keys: null, served_slots: null, next_check_at_ms: null, last_error: null, created_at: nowMs, updated_at: nowMs })
    .onConflict((oc) => oc.column('series_event_id').doNothing())
    .execute();
}
