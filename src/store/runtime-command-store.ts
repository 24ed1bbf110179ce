// Update and stop commands for launched bots: an outbox the dispatcher drains, in order per bot.
import type { Selectable } from 'kysely';
import type { Engine } from '../db/database.ts';
import type { RuntimeCommandsTable } from '../db/schema.ts';
import type { BotCommand } from '../adapters/bot-runtimes/bot-runtime.ts';
import type { Db } from './event-store.ts';

export type RuntimeCommandRow = Selectable<RuntimeCommandsTable>;

export async function enqueueRuntimeCommand(db: Db, command: BotCommand, nowMs: number): Promise<void> {
  await db.insertInto('runtime_commands').values({
    bot_id: command.bot_id,
    action: command.action,
    payload: JSON.stringify(command),
    idempotency_key: command.idempotency_key,
    state: 'pending',
    attempts: 0,
    next_attempt_at_ms: nowMs,
    lease_until_ms: null,
    last_error: null,
    created_at: nowMs,
    updated_at: nowMs,
  }).execute();
}

/** Update and stop commands for a launched bot's runtime; one lane, in order. */
export const RUNTIME_COMMAND_ACTIONS = ['update', 'stop'] as const;

/**
 * Claims due commands whose action is one of `actions` (a lane), only the oldest pending one of
 * each bot in that lane, so that a stop never overtakes an update.
 */
export async function claimRuntimeCommands(db: Db, engine: Engine, nowMs: number, leaseMs: number, limit: number, actions: readonly string[] = RUNTIME_COMMAND_ACTIONS): Promise<RuntimeCommandRow[]> {
  let candidates = db.selectFrom('runtime_commands as c').select('c.id')
    .where('c.state', '=', 'pending').where('c.next_attempt_at_ms', '<=', nowMs).where('c.action', 'in', actions)
    .where((eb) => eb.or([eb('c.lease_until_ms', 'is', null), eb('c.lease_until_ms', '<', nowMs)]))
    .where(({ not, exists, selectFrom }) => not(exists(
      selectFrom('runtime_commands as o').select('o.id').whereRef('o.bot_id', '=', 'c.bot_id').where('o.state', '=', 'pending').where('o.action', 'in', actions).whereRef('o.id', '<', 'c.id'),
    )))
    .orderBy('c.id').limit(limit);
  if (engine === 'postgres') candidates = candidates.forUpdate().skipLocked();
  const ids = (await candidates.execute()).map((r) => r.id);
  if (ids.length === 0) return [];
  return db.updateTable('runtime_commands').set({ lease_until_ms: nowMs + leaseMs, attempts: (eb) => eb('attempts', '+', 1), updated_at: nowMs })
    .where('id', 'in', ids).returningAll().execute();
}

/** `wakesOnChange`: the retry waits for a time the command chose, not a backoff (see bringWaitingCommandForward). */
export async function settleRuntimeCommand(db: Db, id: number, result: { state: 'done' | 'failed' } | { state: 'pending'; retryAtMs: number; wakesOnChange?: boolean }, error: string | null, nowMs: number): Promise<void> {
  await db.updateTable('runtime_commands').set({
    state: result.state,
    next_attempt_at_ms: result.state === 'pending' ? result.retryAtMs : nowMs,
    wakes_on_change: result.state === 'pending' && result.wakesOnChange ? 1 : 0,
    lease_until_ms: null,
    last_error: error,
    updated_at: nowMs,
  }).where('id', '=', id).execute();
}

export async function nextRuntimeCommandAt(db: Db): Promise<number | null> {
  const row = await db.selectFrom('runtime_commands').select((eb) => eb.fn.min('next_attempt_at_ms').as('t')).where('state', '=', 'pending').executeTakeFirst();
  return row?.t === null || row?.t === undefined ? null : Number(row.t);
}

/** Whether a command of the same bot and action was queued after this one and waits behind it. */
export async function hasNewerPendingCommand(db: Db, command: Pick<RuntimeCommandRow, 'id' | 'bot_id' | 'action'>): Promise<boolean> {
  const row = await db.selectFrom('runtime_commands').select('id')
    .where('bot_id', '=', command.bot_id).where('action', '=', command.action).where('state', '=', 'pending').where('id', '>', command.id)
    .executeTakeFirst();
  return row !== undefined;
}

/** Queues a command of another lane (a provider's late edits) with its own payload. */
export async function enqueueCommand(db: Db, command: { botId: string; action: string; payload: unknown; idempotencyKey: string }, nowMs: number): Promise<void> {
  await db.insertInto('runtime_commands').values({
    bot_id: command.botId,
    action: command.action,
    payload: JSON.stringify(command.payload),
    idempotency_key: command.idempotencyKey,
    state: 'pending',
    attempts: 0,
    next_attempt_at_ms: nowMs,
    lease_until_ms: null,
    last_error: null,
    created_at: nowMs,
    updated_at: nowMs,
  }).execute();
}

/**
 * Whether the bot has a command of this action waiting that is not being sent right now. One
 * waiting for a time it chose (wakes_on_change) is brought forward to now, so that it reads the
 * change that asked for it without waiting for that time; a backoff after a failure, or a
 * provider's Retry-After, is kept.
 */
export async function bringWaitingCommandForward(db: Db, botId: string, action: string, nowMs: number): Promise<boolean> {
  const row = await db.selectFrom('runtime_commands').select(['id', 'next_attempt_at_ms', 'wakes_on_change'])
    .where('bot_id', '=', botId).where('action', '=', action).where('state', '=', 'pending')
    .where((eb) => eb.or([eb('lease_until_ms', 'is', null), eb('lease_until_ms', '<', nowMs)]))
    .executeTakeFirst();
  if (row === undefined) return false;
  if (row.wakes_on_change === 1 && Number(row.next_attempt_at_ms) > nowMs) {
    await db.updateTable('runtime_commands').set({ next_attempt_at_ms: nowMs, wakes_on_change: 0, updated_at: nowMs }).where('id', '=', row.id).where('state', '=', 'pending').execute();
  }
  return true;
}
