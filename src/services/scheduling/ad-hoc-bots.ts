// POST /bots/create_bot (spec section 10, MeetStream's create-bot call): a bot for a meeting link,
// now or at join_at, not tied to any calendar event. It is an ordinary bot row with an ordinary
// durable schedule, written by the same function as a calendar bot (insertScheduledBot): the one
// dispatcher launches it exactly once, runtimes report through the one status route, webhooks go
// through the one outbox, and its decisions are logged like any other bot's.
//
// Repeats, MeetStream's way:
// - Idempotency-Key header: the first request creates (201); any later one with the same key from
//   the same user answers 507 with that bot, whatever the body says. One bot per key and user for
//   the bot's lifetime (a unique index, so two simultaneous first requests also make one bot).
// - deduplication_key in the body: the same key for the same meeting answers 200 with the bot it
//   names (live or finished: the key stays bound to its bot); for another meeting 409.
// The header is looked at first; a new header key does not override a body key already bound.
import type { BotProviderName } from '../../config.ts';
import { findProviderInputProblem } from '../../domain/provider-input-limits.ts';
import { createdReason, type RequestOrigin } from '../../domain/action-origin.ts';
import type { Database } from '../../db/database.ts';
import type { BotRow } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import { formatInstant, parseInstant } from '../../lib/time.ts';
import {
  AD_HOC_BOT_SOURCE, AUTO_SCHEDULE_KEY_PREFIX, DEFAULT_AD_HOC_MEETING_SECONDS, DEFAULT_BOT_NAME, applyBotConfigDefaults, checkAutomaticLeave, findRuntimeSettingProblem,
  deduplicationKeyHash, isValidDeduplicationKey, type BotConfigInput,
} from '../../domain/bot-config.ts';
import { checkMeetingUrl, parseMeetingLink, scheduleGroupOf } from '../../domain/meeting-url.ts';
import type { OutboundGuard } from '../../adapters/outbound-guard.ts';
import * as bots from '../../store/bot-store.ts';
import type { Db } from '../../store/event-store.ts';
import { autoScheduleKeyRefused, insertScheduledBot, type ScheduleChangeSignal } from './bot-lifecycle.ts';
import { retryingLostRaces } from '../../db/race-retry.ts';

/** How far in the past create_bot's join_at may be and still mean "join now" (Recall joins at once for any past join_at). */
const PAST_JOIN_AT_GRACE_MS = 10 * 60_000;

export interface CreateBotRequest {
  meeting_link: string;
  /** Left out: the deployment's default name (BOT_DEFAULT_NAME), as a calendar bot gets. */
  bot_name?: string;
  join_at?: string;
  deduplication_key?: string;
  callback_url?: string;
  custom_attributes?: Record<string, string>;
  video_required?: boolean;
  automatic_leave?: object;
  recording_config?: object;
  transcription?: object;
  zoom?: Record<string, unknown>;
  [other: string]: unknown;
}

/** MeetStream's BotResponse. */
export interface CreatedBot {
  bot_id: string;
  transcript_id: null;
  meeting_url: string;
  status: string;
}

/** created: 201; existing (deduplication_key replay): 200; replayed (Idempotency-Key repeat): 507. */
export type CreateBotOutcome = { kind: 'created' | 'existing' | 'replayed'; bot: CreatedBot };

/** Fields of the request that are not passed to the runtime as configuration. */
const NOT_CONFIG = ['meeting_link', 'deduplication_key', 'join_at'] as const;

export class AdHocBots {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #guard: OutboundGuard;
  readonly #signal: ScheduleChangeSignal;

  /** The bot provider bots are handed to (BOT_RUNTIME), whose creation limits a request is held to. */
  readonly #botProvider: BotProviderName | null;

  /** The name of a bot created without bot_name (BOT_DEFAULT_NAME). */
  readonly #defaultBotName: string;

  constructor(deps: { database: Database; clock: Clock; guard: OutboundGuard; signal: ScheduleChangeSignal; botProvider?: BotProviderName | null; defaultBotName?: string }) {
    this.#botProvider = deps.botProvider ?? null;
    this.#defaultBotName = deps.defaultBotName ?? DEFAULT_BOT_NAME;
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#guard = deps.guard;
    this.#signal = deps.signal;
  }

  /** The bot a first request under this Idempotency-Key made, as a repeat is answered (507), or null. */
  async replayOf(userId: string, idempotencyKey: string): Promise<CreatedBot | null> {
    const earlier = await findByIdempotencyKey(this.#database.db, userId, deduplicationKeyHash(idempotencyKey));
    return earlier ? answerOf(earlier) : null;
  }

  /** `origin`: where the request came from, which the new bot's status reason says. */
  async create(userId: string, request: CreateBotRequest, idempotencyKey: string | undefined, origin: RequestOrigin = 'api'): Promise<CreateBotOutcome> {
    // A repeat of an Idempotency-Key answers with the bot the first request made, whatever its
    // body says now (MeetStream ignores a repeat's body): before any check of that body.
    const idempotencyHash = idempotencyKey === undefined ? null : deduplicationKeyHash(idempotencyKey);
    const earlier = idempotencyHash === null ? undefined : await findByIdempotencyKey(this.#database.db, userId, idempotencyHash);
    if (earlier) return { kind: 'replayed', bot: answerOf(earlier) };
    const meeting = parseMeetingLink(request.meeting_link);
    if (!meeting) throw new ApiError('invalid_meeting_url', 'meeting_link must be an absolute http(s) URL', { details: { field: 'meeting_link' } });
    // The runtime opens this URL from its own network: public hosts only, as for a scheduled bot.
    const meetingCheck = checkMeetingUrl(meeting.url);
    if (!meetingCheck.ok) throw new ApiError('invalid_meeting_url', `meeting_link ${meetingCheck.reason}`, { details: { field: 'meeting_link' } });
    let requestedJoinAtMs: number | null = null;
    if (request.join_at !== undefined) {
      requestedJoinAtMs = parseInstant(request.join_at);
      if (requestedJoinAtMs === null) throw new ApiError('invalid_join_at', 'join_at must be an ISO 8601 date-time with an offset, e.g. 2026-11-24T15:00:00Z', { details: { field: 'join_at' } });
    }
    const key = request.deduplication_key;
    if (key !== undefined && !isValidDeduplicationKey(key)) {
      throw new ApiError('invalid_deduplication_key', 'deduplication_key must be 1-2000 printable characters', { details: { field: 'deduplication_key' } });
    }
    if (key?.startsWith(AUTO_SCHEDULE_KEY_PREFIX)) throw autoScheduleKeyRefused();
    const leaveProblem = checkAutomaticLeave(request.automatic_leave, meeting.platform);
    if (leaveProblem) {
      const message = leaveProblem.replace(/^bot_config\./, '');
      throw new ApiError('invalid_bot_config', message, { details: { field: message.split(' ')[0] } });
    }
    checkZoom(request.zoom);
    // What the bot provider would refuse when the bot is handed to it (at once, or at a join_at ahead).
    const botName = request.bot_name ?? this.#defaultBotName;
    const providerProblem = this.#botProvider === null ? null : findProviderInputProblem(this.#botProvider, { botName, customAttributes: request.custom_attributes ?? {}, meeting, config: request });
    if (providerProblem) {
      const field = providerProblem.field === 'meeting_url' ? 'meeting_link' : providerProblem.field;
      throw new ApiError(providerProblem.field === 'meeting_url' ? 'invalid_meeting_url' : 'invalid_bot_config', `${field}: ${providerProblem.problem}`, { details: { field } });
    }
    // A transcript section must name its provider (MeetStream requires it).
    const runtimeProblem = findRuntimeSettingProblem(request);
    if (runtimeProblem) throw new ApiError('invalid_bot_config', runtimeProblem.problem, { details: { field: runtimeProblem.field } });
    if (request.callback_url !== undefined) {
      const check = await this.#guard.checkUrl(request.callback_url);
      if (!check.ok) throw new ApiError('callback_url_not_allowed', `callback_url ${check.reason}`, { details: { field: 'callback_url' } });
    }

    const outcome = await retryingLostRaces(() => this.#database.transact(async (trx): Promise<CreateBotOutcome> => {
      const now = this.#clock.now();
      // Again inside: a concurrent first request with the same key may have committed meanwhile.
      const replayed = idempotencyHash === null ? undefined : await findByIdempotencyKey(trx, userId, idempotencyHash);
      if (replayed) return { kind: 'replayed', bot: answerOf(replayed) };
      if (key !== undefined) {
        const bound = await bots.findLiveBotByKey(trx, this.#database.engine, userId, key)
          ?? await trx.selectFrom('bots').selectAll().where('user_id', '=', userId).where('deduplication_key_hash', '=', deduplicationKeyHash(key))
            .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
        if (bound) {
          if (bound.meeting_identity !== meeting.identity) {
            throw new ApiError('deduplication_conflict', 'deduplication_key is already used by a bot for a different meeting', { extra: { bot_id: bound.id }, details: { field: 'deduplication_key' } });
          }
          return { kind: 'existing', bot: answerOf(bound) };
        }
      }
      if (requestedJoinAtMs !== null && requestedJoinAtMs < now - PAST_JOIN_AT_GRACE_MS) {
        throw new ApiError('invalid_join_at', `join_at is more than ${PAST_JOIN_AT_GRACE_MS / 60_000} minutes in the past; leave it out to join now`, { details: { field: 'join_at' } });
      }
      // A join time that has just passed (a client's clock, a request that waited in a queue) is "now".
      if (requestedJoinAtMs !== null && requestedJoinAtMs <= now) requestedJoinAtMs = null;
      const joinAtMs = requestedJoinAtMs ?? now;
      const leave = request.automatic_leave as { in_call_recording_timeout?: number } | undefined;
      const meetingSeconds = leave?.in_call_recording_timeout ?? DEFAULT_AD_HOC_MEETING_SECONDS;
      const config = applyBotConfigDefaults({ video_required: true, ...withoutRequestFields(request) } as BotConfigInput, this.#defaultBotName);
      const botId = newId('bot');
      const bot: BotRow = {
        id: botId,
        user_id: userId,
        // Without a key the bot binds nothing: its own id keeps the live-key index satisfied.
        deduplication_key: key ?? `bot:${botId}`,
        deduplication_key_hash: deduplicationKeyHash(key ?? `bot:${botId}`),
        is_live: 1,
        meeting_url: meeting.url,
        meeting_platform: meeting.platform,
        meeting_identity: meeting.identity,
        status: 'Scheduled',
        bot_config: JSON.stringify(config),
        custom_attributes: JSON.stringify(config.custom_attributes),
        join_at_ms: joinAtMs,
        is_join_time_pinned: 1,
        meeting_end_ms: joinAtMs + meetingSeconds * 1000,
        launched_at: null,
        source: AD_HOC_BOT_SOURCE,
        created_at: now,
        updated_at: now,
        provider_name: null,
        provider_bot_id: null,
        provider_reported_at_ms: null,
        idempotency_key_hash: idempotencyHash,
        data_deleted_at: null,
        ended_at_ms: null,
        origin,
      };
      const when = requestedJoinAtMs === null ? 'now' : `at ${formatInstant(joinAtMs)}`;
      await insertScheduledBot(trx, this.#database.engine, bot, { id: newId('sch'), group: scheduleGroupOf(meeting.platform) }, {
        reason: `Created through POST /bots/create_bot (${meeting.identity}); joins ${when}; its meeting is taken to last ${meetingSeconds} s`,
        details: { join_at: formatInstant(joinAtMs), meeting_identity: meeting.identity, meeting_seconds: meetingSeconds, idempotency_key: idempotencyKey !== undefined },
        statusReason: createdReason(origin),
        // MeetStream sends bot.scheduled only for a bot with a future join_at; one that joins now
        // goes straight to bot.joining.
        webhookMessage: requestedJoinAtMs === null ? null : `Bot scheduled to join at ${formatInstant(joinAtMs)}`,
      }, now);
      return { kind: 'created', bot: answerOf(bot) };
    }));
    if (outcome.kind === 'created') this.#signal.afterCommit();
    return outcome;
  }
}

function answerOf(bot: Pick<BotRow, 'id' | 'meeting_url' | 'status'>): CreatedBot {
  return { bot_id: bot.id, transcript_id: null, meeting_url: bot.meeting_url, status: bot.status };
}

function withoutRequestFields(request: CreateBotRequest): Record<string, unknown> {
  const config: Record<string, unknown> = { ...request };
  for (const field of NOT_CONFIG) delete config[field];
  return config;
}

/**
 * MeetStream's zoom object: zak_url or obf_url (one of them; both is a 400), and the retired
 * use_zoom_obf and zoom_oauth_connection_user_id are refused rather than silently ignored: the
 * API refuses them too (meetstream-ai/claude-plugin CHANGELOG, "Removed use_zoom_obf ... which
 * the API now rejects"; the zoom templates of meetstream-ai/labs), though the Node SDK's
 * CreateBotParams still types use_zoom_obf. Ignored, the bot would join as a guest.
 */
function checkZoom(zoom: Record<string, unknown> | undefined): void {
  if (!zoom) return;
  if (zoom.zak_url !== undefined && zoom.obf_url !== undefined) {
    throw new ApiError('validation_error', 'zoom: give zak_url or obf_url, not both', { details: { field: 'zoom' } });
  }
  for (const retired of ['use_zoom_obf', 'zoom_oauth_connection_user_id']) {
    if (zoom[retired] !== undefined) throw new ApiError('validation_error', `zoom.${retired} is no longer supported; use zoom.zak_url or zoom.obf_url`, { details: { field: `zoom.${retired}` } });
  }
}

/** The bot a create_bot request with this Idempotency-Key (hashed) made for the user, if any. */
function findByIdempotencyKey(db: Db, userId: string, idempotencyHash: string): Promise<BotRow | undefined> {
  return db.selectFrom('bots').selectAll().where('user_id', '=', userId).where('idempotency_key_hash', '=', idempotencyHash).executeTakeFirst();
}
