// Data access for early handover to a bot provider: the plan of each bot not yet handed over, the
// provider bot Rollcall keeps in step once it is, and the provider bots it has let go of.
import { sql, type Selectable, type Updateable } from 'kysely';
import type { ProviderHandoversTable, RetiredProviderBotsTable } from '../db/schema.ts';
import type { BotStatus } from '../domain/bot-status.ts';
import type { JoinBucket } from '../domain/handover-plan.ts';
import type { Db } from './event-store.ts';

export type ProviderHandoverRow = Selectable<ProviderHandoversTable>;
export type RetiredProviderBotRow = Selectable<RetiredProviderBotsTable>;

/** A bot waits for its handover while it is Scheduled, its timer can still move, and no provider holds it. */
const WAITING: BotStatus = 'Scheduled';
const MOVABLE = ['pending', 'claimed'] as const;

/** Writes some columns of a bot's row, creating the row when it is the bot's first. */
async function upsert(db: Db, botId: string, provider: string, values: Updateable<ProviderHandoversTable>, nowMs: number): Promise<void> {
  await db.insertInto('provider_handovers')
    .values({ bot_id: botId, provider, is_at_risk: 0, generation: 0, created_at: nowMs, ...values, updated_at: nowMs })
    .onConflict((oc) => oc.column('bot_id').doUpdateSet({ ...values, updated_at: nowMs }))
    .execute();
}

export async function findHandover(db: Db, botId: string): Promise<ProviderHandoverRow | undefined> {
  return db.selectFrom('provider_handovers').selectAll().where('bot_id', '=', botId).executeTakeFirst();
}

/** What a creation request sent: the provider's bot, once created from it, has these. */
export interface SentBot {
  joinAtMs: number;
  meetingUrl: string;
  botConfig: string;
}

/** The first creation request under a key, as kept: what it sent, under which key, and when. */
export interface FirstSent extends SentBot {
  /** Equal to last_attempt_at_ms while no later request was sent (absent on rows from before it was kept). */
  sentAtMs?: number;
  /** The idempotency key it went under (absent on rows from before it was kept: see creationKey). */
  key?: string;
}

/** The first creation request of a creation still unanswered, or null. */
export function firstSentOf(row: Pick<ProviderHandoverRow, 'first_sent'> | undefined): FirstSent | null {
  return row?.first_sent ? JSON.parse(row.first_sent) as FirstSent : null;
}

/** The idempotency key the unanswered creation went under. */
export function keyOfFirstSent(launchKey: string, row: Pick<ProviderHandoverRow, 'first_sent' | 'handed_over_at_ms' | 'generation'>): string {
  return firstSentOf(row)?.key ?? creationKey(launchKey, row);
}

/**
 * When the creation request under `key` that got no answer went out, if one did (before any
 * request sent now is recorded): a request sent again under the key goes out knowing it.
 */
export async function unansweredSince(db: Db, botId: string, key: string): Promise<number | undefined> {
  const first = firstSentOf(await findHandover(db, botId));
  // A row from before the key was kept says nothing of the key: taken as this one, sent long ago.
  if (!first || (first.key !== undefined && first.key !== key)) return undefined;
  return first.sentAtMs ?? 0;
}

/**
 * These bots' creation requests go out now (pacing counts from the latest), each with what it
 * sends. The first request under a key is kept (first_sent) until a creation is accepted: a
 * retry the provider answers with the bot an earlier request made gets that request's values.
 */
export async function recordAttempts(db: Db, provider: string, attempts: readonly { botId: string; sent: SentBot; key: string }[], nowMs: number): Promise<void> {
  for (const { botId, sent, key } of attempts) {
    const firstSent = JSON.stringify({ ...sent, sentAtMs: nowMs, key } satisfies FirstSent);
    await db.insertInto('provider_handovers')
      .values({ bot_id: botId, provider, is_at_risk: 0, generation: 0, created_at: nowMs, last_attempt_at_ms: nowMs, not_before_ms: null, first_sent: firstSent, updated_at: nowMs })
      .onConflict((oc) => oc.column('bot_id').doUpdateSet({
        last_attempt_at_ms: nowMs, not_before_ms: null, updated_at: nowMs,
        first_sent: sql<string>`coalesce(provider_handovers.first_sent, ${firstSent})`,
      }))
      .execute();
  }
}

/**
 * The idempotency key of this bot's next (or unanswered) creation: the launch's own for its first
 * handover, then the launch's with the replacement's number (generation 1, 2...).
 */
function creationKey(launchKey: string, row: Pick<ProviderHandoverRow, 'handed_over_at_ms' | 'generation'> | undefined): string {
  return row?.handed_over_at_ms == null ? launchKey : replacementKey(launchKey, row.generation + 1);
}

/** The idempotency key of a bot's replacement number `generation` (the same on its retries). */
export function replacementKey(launchKey: string, generation: number): string {
  return `${launchKey}.r${generation}`;
}

/**
 * The idempotency key of a bot's launch after its provider bot was withdrawn (number `generation`):
 * apart from every replacement's, so that no answer the provider cached for one (a refusal, say)
 * comes back for it.
 */
export function withdrawalKey(launchKey: string, generation: number): string {
  return `${launchKey}.w${generation}`;
}

/** What a creation request for this bot sends (its join time, link and settings). */
export function sentOf(bot: { join_at_ms: number; meeting_url: string; bot_config: string }): SentBot {
  return { joinAtMs: bot.join_at_ms, meetingUrl: bot.meeting_url, botConfig: bot.bot_config };
}

/** The request whose creation the provider may have made (the first under the key), else `sent`. */
export function sentFirst(row: Pick<ProviderHandoverRow, 'first_sent'> | undefined, sent: SentBot): SentBot {
  const first = firstSentOf(row);
  return first ? { joinAtMs: first.joinAtMs, meetingUrl: first.meetingUrl, botConfig: first.botConfig } : sent;
}

/**
 * A creation request for this bot went out and got no answer yet (it may have made a bot the
 * provider has not named to Rollcall).
 */
export async function hasUnansweredCreation(db: Db, botId: string): Promise<boolean> {
  const row = await db.selectFrom('provider_handovers').select('bot_id').where('bot_id', '=', botId).where('first_sent', 'is not', null).executeTakeFirst();
  return row !== undefined;
}

/** The creation under the key is settled (the bot it made, if any, is accounted for): the next request is a first. */
export async function forgetFirstSent(db: Db, botId: string, nowMs: number): Promise<void> {
  await db.updateTable('provider_handovers').set({ first_sent: null, updated_at: nowMs }).where('bot_id', '=', botId).execute();
}

/**
 * The latest creation request made nothing (a 429, a refusal, Recall's 507). If it was the first
 * under its key, the next is a first again; if an earlier one got no answer, that one may still
 * have made a bot and stays recorded (a 429 says nothing of the requests before it).
 */
export async function forgetFirstSentIfLatest(db: Db, botId: string, nowMs: number): Promise<void> {
  const row = await db.selectFrom('provider_handovers').select(['first_sent', 'last_attempt_at_ms']).where('bot_id', '=', botId).executeTakeFirst();
  if (!row?.first_sent || row.last_attempt_at_ms === null) return;
  if (firstSentOf(row)?.sentAtMs !== Number(row.last_attempt_at_ms)) return;
  await db.updateTable('provider_handovers').set({ first_sent: null, updated_at: nowMs })
    .where('bot_id', '=', botId).where('first_sent', '=', row.first_sent).where('last_attempt_at_ms', '=', row.last_attempt_at_ms)
    .execute();
}

/** When this provider's creations of the last moments went out (each bot's latest attempt since `sinceMs`). */
export async function attemptTimesSince(db: Db, provider: string, sinceMs: number): Promise<number[]> {
  const rows = await db.selectFrom('provider_handovers').select('last_attempt_at_ms').where('provider', '=', provider).where('last_attempt_at_ms', '>', sinceMs).execute();
  return rows.map((r) => Number(r.last_attempt_at_ms));
}

/** A failed handover backs off until `notBeforeMs` (null: the plan may place it again). */
export async function setBackoff(db: Db, botId: string, provider: string, notBeforeMs: number | null, nowMs: number): Promise<void> {
  await upsert(db, botId, provider, { not_before_ms: notBeforeMs }, nowMs);
}

export async function recordPlan(db: Db, botId: string, provider: string, plan: { plannedAtMs: number; deadlineMs: number; isAtRisk: boolean }, nowMs: number): Promise<void> {
  await upsert(db, botId, provider, { planned_at_ms: plan.plannedAtMs, deadline_ms: plan.deadlineMs, is_at_risk: plan.isAtRisk ? 1 : 0 }, nowMs);
}

/** The provider holds `held.providerBotId` for this bot, joining at `held.joinAtMs` on `held.meetingUrl` with `held.botConfig`. */
export async function recordHeld(db: Db, botId: string, provider: string, held: { providerBotId: string; joinAtMs: number; meetingUrl: string; botConfig: string | null; generation?: number; handedOverAtMs?: number }, nowMs: number): Promise<void> {
  await upsert(db, botId, provider, {
    provider_bot_id: held.providerBotId,
    join_at_ms: held.joinAtMs,
    meeting_url: held.meetingUrl,
    bot_config: held.botConfig,
    not_before_ms: null,
    ...(held.generation !== undefined ? { generation: held.generation } : {}),
    // A creation was accepted: the first request under its key is done with. (An update leaves
    // it: a replacement still unanswered may yet be replayed.)
    ...(held.handedOverAtMs !== undefined ? { handed_over_at_ms: held.handedOverAtMs, first_sent: null } : {}),
  }, nowMs);
}

/** What a provider bot was given (its link and settings), cleared when they are no longer needed. */
const FORGOTTEN_DETAILS = { meeting_url: null, bot_config: null } as const;

/**
 * Rollcall no longer keeps a provider bot in step for this bot (it was cancelled): what that bot
 * was given goes. A creation still unanswered stays recorded: its bot, if the provider made one,
 * is yet to be let go of.
 */
export async function releaseHeld(db: Db, botId: string, nowMs: number): Promise<void> {
  await db.updateTable('provider_handovers').set({ provider_bot_id: null, ...FORGOTTEN_DETAILS, updated_at: nowMs }).where('bot_id', '=', botId).execute();
}

/**
 * The bot's provider bot was withdrawn (its calendars lost their access): the bot waits for a
 * handover again, as if it had none, and the next creation for it goes under the key of
 * `generation`. Clears the bot's provider id too, which is how the plan tells a waiting bot.
 */
export async function withdrawHeld(db: Db, botId: string, generation: number, nowMs: number): Promise<void> {
  await db.updateTable('provider_handovers')
    .set({ provider_bot_id: null, join_at_ms: null, handed_over_at_ms: null, planned_at_ms: null, is_at_risk: 0, not_before_ms: null, generation, ...FORGOTTEN_DETAILS, updated_at: nowMs })
    .where('bot_id', '=', botId).execute();
  await db.updateTable('bots').set({ provider_bot_id: null, updated_at: nowMs }).where('id', '=', botId).execute();
}

/**
 * The bot's data was deleted: the link and settings its provider bot was given go now (the
 * provider's ids stay for letting that bot go, and an unanswered creation's first request until
 * its bot has been looked for).
 */
export async function forgetHeldDetails(db: Db, botId: string, nowMs: number): Promise<void> {
  await db.updateTable('provider_handovers').set({ ...FORGOTTEN_DETAILS, updated_at: nowMs }).where('bot_id', '=', botId).execute();
}

export async function retireProviderBot(db: Db, provider: string, providerBotId: string, botId: string, reason: string, nowMs: number): Promise<void> {
  await db.insertInto('retired_provider_bots')
    .values({ provider, provider_bot_id: providerBotId, bot_id: botId, reason: reason.slice(0, 1000), retired_at_ms: nowMs })
    .onConflict((oc) => oc.columns(['provider', 'provider_bot_id']).doNothing())
    .execute();
}

export async function findRetiredProviderBot(db: Db, provider: string, providerBotId: string): Promise<RetiredProviderBotRow | undefined> {
  return db.selectFrom('retired_provider_bots').selectAll().where('provider', '=', provider).where('provider_bot_id', '=', providerBotId).executeTakeFirst();
}

/** Points the Rollcall bot at a replacement provider bot (its webhooks and commands name the new id). */
export async function replaceProviderBot(db: Db, botId: string, provider: string, providerBotId: string, nowMs: number): Promise<void> {
  await db.updateTable('bots').set({ provider_name: provider, provider_bot_id: providerBotId, updated_at: nowMs }).where('id', '=', botId).execute();
}

/**
 * Bots waiting for their handover, counted per minute of their join time, joining after `nowMs`
 * and at or before `untilMs`. A timer is never due after its bot's join time (it is the join time,
 * or a planned handover before it), so the due index narrows the scan.
 */
export async function countWaitingByMinute(db: Db, nowMs: number, untilMs: number): Promise<JoinBucket[]> {
  const minute = sql<number>`(bots.join_at_ms / 60000)`;
  const rows = await db.selectFrom('schedules').innerJoin('bots', 'bots.id', 'schedules.bot_id')
    .select([minute.as('minute'), sql<number>`count(*)`.as('n')])
    .where('schedules.state', 'in', MOVABLE).where('schedules.due_at_ms', '<=', untilMs)
    .where('bots.status', '=', WAITING).where('bots.provider_bot_id', 'is', null)
    .where('bots.join_at_ms', '>', nowMs).where('bots.join_at_ms', '<=', untilMs)
    .groupBy(minute).orderBy(minute)
    .execute();
  return rows.map((r) => ({ startMs: Number(r.minute) * 60_000, count: Number(r.n) }));
}

export interface WaitingBot {
  botId: string;
  userId: string;
  botConfig: string;
  customAttributes: string;
  joinAtMs: number;
  scheduleId: string;
  dueAtMs: number;
  plannedAtMs: number | null;
  isAtRisk: boolean;
  notBeforeMs: number | null;
}

/** Bots waiting for their handover that join after `nowMs` and at or before `untilMs`. */
export async function listWaiting(db: Db, nowMs: number, untilMs: number): Promise<WaitingBot[]> {
  const rows = await db.selectFrom('schedules').innerJoin('bots', 'bots.id', 'schedules.bot_id')
    .leftJoin('provider_handovers as h', 'h.bot_id', 'bots.id')
    .select(['bots.id as bot_id', 'bots.user_id', 'bots.bot_config', 'bots.custom_attributes', 'bots.join_at_ms', 'schedules.id as schedule_id', 'schedules.due_at_ms', 'h.planned_at_ms', 'h.is_at_risk', 'h.not_before_ms'])
    .where('schedules.state', 'in', MOVABLE).where('schedules.due_at_ms', '<=', untilMs)
    .where('bots.status', '=', WAITING).where('bots.provider_bot_id', 'is', null)
    .where('bots.join_at_ms', '>', nowMs).where('bots.join_at_ms', '<=', untilMs)
    .execute();
  return rows.map((r) => ({
    botId: r.bot_id,
    userId: r.user_id,
    botConfig: r.bot_config,
    customAttributes: r.custom_attributes,
    joinAtMs: Number(r.join_at_ms),
    scheduleId: r.schedule_id,
    dueAtMs: Number(r.due_at_ms),
    plannedAtMs: r.planned_at_ms === null ? null : Number(r.planned_at_ms),
    isAtRisk: r.is_at_risk === 1,
    notBeforeMs: r.not_before_ms === null ? null : Number(r.not_before_ms),
  }));
}

/**
 * Moves a waiting bot's timer to its planned handover, only if neither the timer nor the bot's
 * join time changed since the plan read them (a concurrent move wins, and is planned next time).
 * A claimed timer goes back to pending, as for any move: its dispatcher's copy is stale.
 */
export async function moveHandoverTimer(db: Db, scheduleId: string, botId: string, fromDueMs: number, joinAtMs: number, toDueMs: number, nowMs: number): Promise<boolean> {
  const result = await db.updateTable('schedules')
    .set({ due_at_ms: toDueMs, state: 'pending', lease_owner: null, lease_until_ms: null, updated_at: nowMs })
    .where('id', '=', scheduleId).where('state', 'in', MOVABLE).where('due_at_ms', '=', fromDueMs)
    .where(({ exists, selectFrom }) => exists(
      selectFrom('bots').select('bots.id').where('bots.id', '=', botId).where('bots.join_at_ms', '=', joinAtMs)
        .where('bots.status', '=', WAITING).where('bots.provider_bot_id', 'is', null),
    ))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
