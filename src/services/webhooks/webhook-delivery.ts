// Delivers status webhooks from the outbox: signed (Standard Webhooks, per-user secret), retried
// with backoff across restarts with the same webhook-id, one at a time per bot so that a
// receiver sees each bot's events in order, and only to public addresses: sent guarded through
// the outbound client, so a callback URL whose host now leads somewhere private fails for good
// (`failed`, no retries) rather than being retried against the private network. A receiver that
// struggles (429, 502, 503, 504, no answer) has its URL held back as a whole for the user
// (webhook_url_holds): nothing to it until its pause ends, then one message at a time until one
// is taken.
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { WebhookDeliveriesTable } from '../../db/schema.ts';
import type { Selectable } from 'kysely';
import type { Clock } from '../../lib/clock.ts';
import type { Metrics } from '../../lib/metrics.ts';
import { OutboundError, parseRetryAfterMs, type OutboundHttp } from '../../adapters/outbound-http.ts';
import type { SecretBox } from '../../lib/secret-box.ts';
import { openWebhookSecret } from '../access/api-keys.ts';
import { signingRetiredSecrets } from './webhook-secrets.ts';
import { meetstreamSignature } from './meetstream-signature.ts';
import { webhookRetryDelayMs } from '../../scheduler/backoff.ts';
import { BackgroundLoop } from '../../scheduler/background-loop.ts';
import { RequestInterrupter } from '../../lib/request-interrupter.ts';
import { FailureLog } from '../../lib/failure-log.ts';
import { holdsUrl, isDueToDisable, nextUrlHold, NOT_SENT_PREFIX } from '../../domain/webhook-url-hold.ts';
import type { Transaction } from 'kysely';
import type { Schema } from '../../db/schema.ts';
import { retryingConflicts } from '../../db/race-retry.ts';

/** Attempts a message gets before a refusal of it (isRefusal, twice in a row) stops it holding its bot's line. */
const REFUSED_ATTEMPTS = 5;
/**
 * Answers that refuse the message itself: malformed to the receiver (400), in conflict with its
 * state (409), too large (413), of a type it does not take (415), or not processable (422), such
 * as an event it does not know. Any other 4xx (401 or 403 after a secret rotation, 404 while a
 * receiver is being deployed, 408, 425, 429) says the receiver is not ready: an outage.
 * (Redirects are counted with the refusals: isRefusal; 410 is neither: GONE.)
 */
const REFUSALS = new Set([400, 409, 413, 415, 422]);

/**
 * 410 Gone: the receiver wants no more webhooks (Standard Webhooks, "Delivery success and
 * failure": the sender should disable the endpoint and stop sending to it). The endpoint here is a
 * bot's line to one URL, recorded as gone (gone_webhook_urls): the message fails at once, not
 * retried, and so does every other message of the bot to that URL still waiting, unsent (those
 * queued behind it at once, retrying ones too, those queued after it when their turn comes), until
 * a message of the bot to that URL is taken (2xx), which only a redelivered one can be: a message
 * its owner redelivered (`redelivered`) is sent whatever the record says.
 */
const GONE = 410;
/**
 * How many of a held URL's waiting messages (the oldest) its paced round chooses from (#heldPick):
 * a bound on the read, whatever the user has queued for the URL.
 */
const HELD_PICK_WINDOW = 100;
/** How often the messages past their lifetime are looked for (#expireWaiting). */
const EXPIRY_SWEEP_MS = 60_000;

/** last_error of a message not sent because its line is gone. */
function notSentText(goneMessageId: string): string {
  return `${NOT_SENT_PREFIX} the receiver answered 410 Gone to ${goneMessageId} (redeliver that one to open this URL again)`;
}

/**
 * last_error of a message not sent because its URL is disabled after days of failures; `messageId`
 * the one to redeliver (the URL's record names it: the latest that failed, else the message itself).
 */
function disabledText(failingSinceMs: number, messageId: string): string {
  return `${NOT_SENT_PREFIX} every attempt to this URL has failed since ${new Date(failingSinceMs).toISOString()}, so it is disabled (redeliver ${messageId} to open it again)`;
}

/** last_error of a message given up before it was ever tried: it waited for its whole lifetime. */
function expiredText(maxAgeMs: number): string {
  return `${NOT_SENT_PREFIX} still waiting ${Math.round(maxAgeMs / 3_600_000)} hours after it was queued, its URL's receiver failing`;
}

/**
 * Thrown inside an attempt's record when its message no longer carries the claim its sender took:
 * the transaction rolls back, so nothing of the record is written (the message's state and
 * attempts, the URL's hold and run of failures, a gone line, the messages it would give up).
 */
class ClaimLost extends Error {}

/**
 * The claim a delivery was sent under: the lease its sender wrote when it claimed it. Every record
 * of a message clears its lease and every claim writes a later one, so a message still carrying
 * this value has been neither claimed again nor recorded since (a redelivery leaves the lease as it
 * is: the attempt under way keeps its claim).
 */
const claimOf = (d: Pick<Delivery, 'lease_until_ms'>) => Number(d.lease_until_ms);

const lineKey = (d: Pick<Delivery, 'bot_id' | 'url'>) => `${d.bot_id} ${d.url}`;
/** A user's callback URL, as webhook_url_holds keys it. */
const urlKey = (d: Pick<Delivery, 'user_id' | 'url'>) => `${d.user_id} ${d.url}`;

/**
 * A refusal, or a redirect: webhooks follow none (a redirect could lead anywhere, the private
 * network among them), so a callback URL that answers 3xx will answer it again, whatever the wait,
 * until its owner gives the final address.
 */
function isRefusal(status: number | null): boolean {
  return status !== null && (REFUSALS.has(status) || (status >= 300 && status < 400));
}

/** The status of a delivery's last answer, as last_error records it (`HTTP 422`, `HTTP 301 ...`), or null. */
function lastStatusOf(lastError: string | null): number | null {
  const match = lastError === null ? null : /^HTTP (\d{3})\b/.exec(lastError);
  return match ? Number(match[1]) : null;
}

/** last_error for an answer: its status, and for a redirect where it pointed (the address to give instead). */
function answerText(status: number, location: string | null): string {
  if (status === GONE) return `HTTP ${status} (the receiver says it is gone; not retried)`;
  if (status < 300 || status >= 400) return `HTTP ${status}`;
  return `HTTP ${status} (webhooks do not follow redirects${location ? `; it points to ${location}` : ''})`;
}

export interface WebhookDeliveryOptions {
  database: Database;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** The outbound client; callback URLs are users' and go through it guarded. */
  http: OutboundHttp;
  timeoutMs: number;
  /** First retry delay; doubles per attempt up to an hour. (Default: 5000) */
  retryBaseMs?: number;
  /** A delivery still failing, or still waiting unsent, this long after it was queued is given up. (Default: 3 days) */
  maxAgeMs?: number;
  pollIntervalMs?: number;
  batchSize?: number;
  /**
   * A user's callback URL whose every attempt has failed this long, the failures of two messages
   * or more, is disabled: its messages fail unsent until a redelivered one is taken. 0: never.
   * (Default: 5 days)
   */
  disableAfterMs?: number;
  /** Opens webhook secrets sealed at rest (CREDENTIALS_ENCRYPTION_KEY); null when none is set. */
  secretBox?: SecretBox | null;
  /**
   * How long a stop waits for the answers of deliveries under way before it ends them; those are
   * sent again (same webhook-id) by the next instance to look, at once. (Default: 3000)
   */
  stopGraceMs?: number;
}

type Delivery = Selectable<WebhookDeliveriesTable>;

export class WebhookDelivery {
  readonly #o: Required<WebhookDeliveryOptions>;
  readonly #loop: BackgroundLoop;
  /** Deliveries under way, each settled (never rejecting) when its attempt is recorded. */
  readonly #inFlight = new Set<Promise<void>>();
  /** How many of them are each user's. */
  readonly #inFlightPerUser = new Map<string, number>();
  /** Their ids: one whose lease ran out while it is still under way is not claimed again here. */
  readonly #inFlightIds = new Set<Delivery['id']>();
  /** Ends the requests under way when a stop has waited long enough for them. */
  readonly #requests = new RequestInterrupter();
  /**
   * The deliveries under way to a held URL (webhook_url_holds), by id, with the URL's owner and
   * address: no other message goes to that URL while one is (claimed while the URL was held, or
   * answered in a way that holds it, until its attempt is recorded).
   */
  readonly #heldInFlight = new Map<Delivery['id'], { userId: string; url: string }>();
  /** The user and URL (urlKey) of every delivery under way, by id. */
  readonly #inFlightUrls = new Map<Delivery['id'], string>();
  /** Failed attempts, logged (a receiver down for every webhook logs a few and a count). */
  readonly #failures: FailureLog;
  /** When #expireWaiting looks next (clock time). */
  #nextExpiryAtMs = 0;

  constructor(options: WebhookDeliveryOptions) {
    this.#o = { retryBaseMs: 5000, maxAgeMs: 3 * 24 * 3600_000, disableAfterMs: 5 * 24 * 3600_000, pollIntervalMs: 1000, batchSize: 100, secretBox: null, stopGraceMs: 3000, ...options };
    this.#failures = new FailureLog(options.logger, 'webhook delivery attempt failed; it is retried');
    this.#loop = new BackgroundLoop({
      name: 'webhooks',
      health: options.database.health,
      logger: options.logger,
      metrics: options.metrics,
      pass: async () => {
        while (this.#loop.isRunning && (await this.#startDue()) > 0) {
          // keep going while there is work and room for it
        }
        await this.#updateDepth();
        return this.#o.pollIntervalMs;
      },
    });
  }

  start(): void {
    this.#requests.renew();
    this.#loop.start();
  }

  /**
   * Stops claiming, and waits for the deliveries under way to be recorded: up to stopGraceMs for
   * their answers (a receiver may take WEBHOOK_TIMEOUT_MS, longer than a process gets to stop),
   * then ends those still waiting and hands them back, their attempt not counted.
   */
  async stop(): Promise<void> {
    await this.#loop.stop();
    // (Renewed at the end: tests stop one instance and drive it with runDue.)
    await this.#requests.endWithin(this.#settled(), this.#o.stopGraceMs);
    this.#failures.flush();
  }

  wake(): void {
    this.#loop.wake();
  }

  /** Delivers everything due now, until nothing is, and waits for every answer (tests use this). */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const started = await this.#startDue();
      total += started;
      await this.#settled();
      if (started === 0) return total;
    }
  }

  async #settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  async #updateDepth(): Promise<void> {
    const row = await this.#o.database.db.selectFrom('webhook_deliveries').select(sql<number>`count(*)`.as('n')).where('state', '=', 'pending').executeTakeFirst();
    this.#o.metrics.webhookOutboxDepth.set(Number(row?.n ?? 0));
  }

  /**
   * Claims the oldest due delivery of each bot, the oldest first, as many as there is room for,
   * and starts sending them without waiting for their answers: a receiver that takes its whole
   * timeout to answer holds one slot, never the other receivers' messages. Room is batchSize
   * deliveries in flight, a user's at most a tenth of them, so that it takes ten users' hung
   * receivers at once to fill them. A user's URL that is held (webhook_url_holds) gets nothing
   * before its pause ends, then one message at a time, the least recently tried (#heldPick), until
   * one is taken. Returns how many were started.
   */
  async #startDue(): Promise<number> {
    const { database, clock } = this.#o;
    const room = this.#o.batchSize - this.#inFlight.size;
    if (room <= 0) return 0;
    const perUserCap = Math.max(1, Math.floor(this.#o.batchSize / 10));
    const fullUsers = [...this.#inFlightPerUser].filter(([, n]) => n >= perUserCap).map(([userId]) => userId);
    const now = clock.now();
    const leaseMs = this.#o.timeoutMs + 30_000;
    await this.#expireWaiting(now);
    const claimed = await database.db.transaction().execute(async (trx) => {
      // The oldest first (the primary key's order: the walk stops at `room` rows, whatever the
      // outbox holds).
      let candidates = this.#eligible(trx, now).orderBy('d.id').limit(room);
      if (fullUsers.length > 0) candidates = candidates.where('d.user_id', 'not in', fullUsers);
      // Nor to a held URL that a message is already trying. A disabled URL's messages that are not
      // to be sent (all but those their owner redelivered) do not wait for that attempt: they fail
      // unsent when their turn comes, whatever is under way to the URL, as they do whatever its pause.
      const heldBusy = [...new Map([...this.#heldInFlight.values()].map((h) => [urlKey({ user_id: h.userId, url: h.url }), h])).values()];
      if (heldBusy.length > 0) {
        candidates = candidates.where((eb) => eb.not(eb.and([
          eb.or(heldBusy.map((h) => eb.and([eb('d.user_id', '=', h.userId), eb('d.url', '=', h.url)]))),
          eb.or([
            eb('d.redelivered', '=', 1),
            eb.not(eb.exists(eb.selectFrom('webhook_url_holds as u').select('u.user_id')
              .whereRef('u.user_id', '=', 'd.user_id').whereRef('u.url', '=', 'd.url').where('u.disabled_at_ms', 'is not', null))),
          ]),
        ])));
      }
      if (database.engine === 'postgres') candidates = candidates.forUpdate().skipLocked();
      const rows = await candidates.execute();
      // The failing URLs among them: a held one (its pause over) gets one message at a time; a
      // disabled one's messages fail unsent, except those their owner redelivered.
      const failing = rows.length === 0 ? [] : await trx.selectFrom('webhook_url_holds').select(['user_id', 'url', 'failures', 'failing_since_ms', 'message_id', 'disabled_at_ms'])
        .where('user_id', 'in', [...new Set(rows.map((row) => row.user_id))]).execute();
      const held = new Set(failing.filter((f) => f.failures > 0).map(urlKey));
      // (A record that names no message, none of the user's to the URL being left, has each
      // message not sent name itself.)
      const disabled = new Map(failing.filter((f) => f.disabled_at_ms !== null).map((f) => [urlKey(f), (own: string) => disabledText(Number(f.failing_since_ms), f.message_id ?? own)]));
      const isUnsent = (row: { user_id: string; url: string; redelivered: number }) => row.redelivered === 0 && disabled.has(urlKey(row));
      const taken = new Map<string, number>();
      // A held URL takes one message at a time: none while a message is under way to it, even
      // one sent before it was held.
      const heldTaken = new Set(this.#inFlightUrls.values());
      const ids: Delivery['id'][] = [];
      for (const row of rows) {
        const count = (this.#inFlightPerUser.get(row.user_id) ?? 0) + (taken.get(row.user_id) ?? 0);
        if (count >= perUserCap) continue;
        let id = row.id;
        if (held.has(urlKey(row)) && !isUnsent(row)) {
          if (heldTaken.has(urlKey(row))) continue;
          heldTaken.add(urlKey(row));
          // Its one message: the one tried least recently, not necessarily this one.
          id = await this.#heldPick(trx, row, disabled.has(urlKey(row)), now);
        }
        taken.set(row.user_id, (taken.get(row.user_id) ?? 0) + 1);
        ids.push(id);
      }
      if (ids.length === 0) return [];
      const leased = await trx.updateTable('webhook_deliveries').set({ lease_until_ms: now + leaseMs })
        .where('id', 'in', ids).returningAll().execute();
      return leased.map((delivery) => ({ ...delivery, isHeld: held.has(urlKey(delivery)) && !isUnsent(delivery), disabledText: isUnsent(delivery) ? disabled.get(urlKey(delivery))!(delivery.message_id) : null }));
    });
    if (claimed.length === 0) return 0;
    for (const delivery of claimed) if (delivery.isHeld) this.#heldInFlight.set(delivery.id, { userId: delivery.user_id, url: delivery.url });
    const userIds = [...new Set(claimed.map((d) => d.user_id))];
    const users = await database.db.selectFrom('users').select(['id', 'webhook_secret']).where('id', 'in', userIds).execute();
    const retired = await signingRetiredSecrets(database.db, userIds, this.#o.clock.now());
    const secretsOf = new Map(users.map((u) => [u.id, [u.webhook_secret, ...(retired.get(u.id) ?? [])]]));
    const gone = await this.#goneLinesOf(claimed.filter((d) => d.redelivered === 0));
    for (const delivery of claimed) {
      const goneMessageId = delivery.redelivered === 0 ? gone.get(lineKey(delivery)) : undefined;
      const unsentText = goneMessageId !== undefined ? notSentText(goneMessageId) : delivery.disabledText;
      this.#track(delivery, unsentText === null ? this.#deliver(delivery, secretsOf.get(delivery.user_id)!) : this.#failUnsent(delivery, unsentText, goneMessageId !== undefined ? 'gone' : 'disabled'));
    }
    return claimed.length;
  }

  /**
   * The messages that may be sent now (`d`): due, not leased, not under way here, each the oldest
   * waiting message of its bot to its URL, to a URL not paused.
   */
  #eligible(trx: Transaction<Schema>, now: number, ofUrlNotPaused = false) {
    let eligible = trx.selectFrom('webhook_deliveries as d').select(['d.id', 'd.user_id', 'd.url', 'd.redelivered', 'd.last_attempt_at_ms'])
      .where('d.state', '=', 'pending').where('d.next_attempt_at_ms', '<=', now)
      .where((eb) => eb.or([eb('d.lease_until_ms', 'is', null), eb('d.lease_until_ms', '<', now)]))
      // In order per bot and receiver: only the oldest undelivered message of a bot to one URL
      // is eligible (a connection's webhook goes to several bots' URLs: one receiver failing
      // must not hold the others' copies back).
      .where(({ not, exists, selectFrom }) => not(exists(
        selectFrom('webhook_deliveries as e').select('e.id')
          .whereRef('e.bot_id', '=', 'd.bot_id').whereRef('e.url', '=', 'd.url').where('e.state', '=', 'pending').whereRef('e.id', '<', 'd.id'),
      )));
    // Nothing to a URL its receiver asked a pause of, or found down, before the pause ends,
    // whichever bot a message is of (by the holds' primary key: a handful of rows). Left out when
    // the messages are of one URL found not paused: PostgreSQL would then sort them all. A
    // disabled URL's pause (a redelivered message failed) holds back only its redelivered
    // messages: the others are not sent, they fail unsent at once.
    if (!ofUrlNotPaused) {
      eligible = eligible.where(({ not, exists, selectFrom }) => not(exists(
        selectFrom('webhook_url_holds as h').select('h.user_id')
          .whereRef('h.user_id', '=', 'd.user_id').whereRef('h.url', '=', 'd.url').where('h.paused_until_ms', '>', now)
          .where((eb) => eb.or([eb('h.disabled_at_ms', 'is', null), eb('d.redelivered', '=', 1)])),
      )));
    }
    if (this.#inFlightIds.size > 0) eligible = eligible.where('d.id', 'not in', [...this.#inFlightIds]);
    return eligible;
  }

  /**
   * The one message a held URL (its pause over) takes next: of the HELD_PICK_WINDOW oldest of the
   * user's messages to the URL that may be sent now, from `first` (the oldest that may be, found by
   * the claim) on, one never tried, the oldest first, else the one tried least recently, so that
   * one message its receiver keeps failing does not keep the others waiting. Only those
   * redelivered when the URL is disabled (the others fail unsent). Messages queued behind their
   * bot's older ones cannot be sent and are not counted. The URL's waiting messages are read in id
   * order from `first` (by webhook_deliveries_url_waiting or the primary key) and the read stops
   * at the window's end: its cost is that of the messages it passes over, not of the outbox.
   */
  async #heldPick(trx: Transaction<Schema>, first: Pick<Delivery, 'id' | 'user_id' | 'url' | 'last_attempt_at_ms'>, isDisabled: boolean, now: number): Promise<Delivery['id']> {
    // (The state as a literal too: the index is partial, on the waiting messages only. The URL is
    // `first`'s, found not paused by the claim.)
    let window = this.#eligible(trx, now, true).where('d.state', '=', sql.lit('pending'))
      .where('d.user_id', '=', first.user_id).where('d.url', '=', first.url).where('d.id', '>=', first.id);
    if (isDisabled) window = window.where('d.redelivered', '=', 1);
    window = window.orderBy('d.id').limit(HELD_PICK_WINDOW);
    if (this.#o.database.engine === 'postgres') window = window.forUpdate().skipLocked();
    const triedAt = (row: { last_attempt_at_ms: number | null }) => (row.last_attempt_at_ms === null ? -1 : Number(row.last_attempt_at_ms));
    let pick = first;
    for (const row of await window.execute()) {
      if (triedAt(row) < triedAt(pick) || (triedAt(row) === triedAt(pick) && row.id < pick.id)) pick = row;
    }
    return pick.id;
  }

  /**
   * Gives up the messages still waiting after maxAgeMs: each message keeps its own budget,
   * whatever it waits for (a held or paced URL, an older message of its bot's line). One that was
   * tried keeps its last error. One never tried is given up unsent only while its URL's receiver
   * is failing (a hold with failures): queued behind an older message of its bot that the
   * receiver would not take, to a receiver that takes the rest, it gets its one attempt when it
   * comes first in its line, as a redelivered one does (it expires after it). Looked at once a
   * minute at most (a scan of the pending messages).
   */
  async #expireWaiting(now: number): Promise<void> {
    if (now < this.#nextExpiryAtMs) return;
    this.#nextExpiryAtMs = now + EXPIRY_SWEEP_MS;
    const { database } = this.#o;
    let expiring = database.db.selectFrom('webhook_deliveries as e').select('e.id')
      .where('e.state', '=', 'pending').where('e.redelivered', '=', 0).where('e.created_at', '<', now - this.#o.maxAgeMs)
      .where((eb) => eb.or([eb('e.lease_until_ms', 'is', null), eb('e.lease_until_ms', '<', now)]))
      .where((eb) => eb.or([
        eb('e.attempts', '>', 0),
        eb.exists(eb.selectFrom('webhook_url_holds as h').select('h.user_id')
          .whereRef('h.user_id', '=', 'e.user_id').whereRef('h.url', '=', 'e.url').where('h.failures', '>', 0)),
      ]))
      // Locked in id order, as every writer of several messages locks them (a failure that
      // disables their URL among them), so that none waits for another in a circle: read by
      // their retry time (the index), they would be locked in that order.
      .orderBy('e.id');
    if (this.#inFlightIds.size > 0) expiring = expiring.where('e.id', 'not in', [...this.#inFlightIds]);
    if (database.engine === 'postgres') expiring = expiring.forUpdate();
    const expired = Number((await database.db.updateTable('webhook_deliveries')
      .set({ state: 'failed', lease_until_ms: null, last_error: sql<string>`coalesce(last_error, ${expiredText(this.#o.maxAgeMs)})` })
      .where('id', 'in', expiring).executeTakeFirst()).numUpdatedRows);
    if (expired === 0) return;
    this.#o.metrics.webhookDeliveries.inc({ outcome: 'expired' }, expired);
    this.#o.logger.warn({ expired }, 'webhooks given up unsent: they waited (for a held URL, or behind their bot\'s older messages) for their whole lifetime');
  }

  /** The lines (bot and URL) of these deliveries recorded as gone, each with the latest message answered 410. */
  async #goneLinesOf(deliveries: readonly Delivery[]): Promise<Map<string, string>> {
    if (deliveries.length === 0) return new Map();
    // By the primary key (bot_id, url): a handful of rows, whatever the outbox holds.
    const rows = await this.#o.database.db.selectFrom('gone_webhook_urls').select(['bot_id', 'url', 'message_id'])
      .where('bot_id', 'in', [...new Set(deliveries.map((d) => d.bot_id))]).execute();
    return new Map(rows.map((row) => [lineKey(row), row.message_id]));
  }

  /**
   * Gives up a message of a gone line, or to a disabled URL, without sending it; its owner can
   * still redeliver it. One its owner redelivered since it was claimed is to be sent: it is handed
   * back, and goes at once.
   */
  async #failUnsent(delivery: Delivery, text: string, outcome: 'gone' | 'disabled'): Promise<void> {
    const unsent = await retryingConflicts(() => this.#o.database.db.updateTable('webhook_deliveries').set({ state: 'failed', lease_until_ms: null, last_error: text })
      .where('id', '=', delivery.id).where('lease_until_ms', '=', claimOf(delivery)).where('state', '=', 'pending').where('redelivered', '=', 0).executeTakeFirst());
    if (Number(unsent.numUpdatedRows) > 0) return void this.#o.metrics.webhookDeliveries.inc({ outcome });
    if (await this.#handBack(delivery)) this.#o.logger.info({ botId: delivery.bot_id, messageId: delivery.message_id }, 'webhook not given up unsent: its owner redelivered it since it was claimed; it is sent at once');
    else this.#claimLost(delivery, null);
  }

  /** Clears the delivery's lease while it still carries this sender's claim and waits, so that it goes again at once; answers whether it did. */
  async #handBack(delivery: Delivery): Promise<boolean> {
    const released = await retryingConflicts(() => this.#o.database.db.updateTable('webhook_deliveries').set({ lease_until_ms: null })
      .where('id', '=', delivery.id).where('lease_until_ms', '=', claimOf(delivery)).where('state', '=', 'pending').executeTakeFirst());
    return Number(released.numUpdatedRows) > 0;
  }

  /**
   * Runs an attempt's record, `record` throwing ClaimLost (and so rolling its transaction back)
   * when the message's own update finds the claim gone; answers what `record` answers, or null
   * then (logged and counted as `claim_lost`).
   */
  async #fenced<T>(delivery: Delivery, status: number | null, record: () => Promise<T>): Promise<T | null> {
    try {
      return await record();
    } catch (error) {
      if (!(error instanceof ClaimLost)) throw error;
      this.#claimLost(delivery, status);
      return null;
    }
  }

  /**
   * An attempt whose message no longer carries its claim: either this sender stalled (a pause of
   * the process, a slow commit) past its lease, and the message was claimed again, recorded, or
   * given up meanwhile; or, without stalling, its attempt was under way when another sender's late
   * success (a 2xx to an attempt whose claim had run out) recorded the message delivered. That
   * record stands; this attempt's is not written.
   */
  #claimLost(delivery: Delivery, status: number | null): void {
    this.#o.metrics.webhookDeliveries.inc({ outcome: 'claim_lost' });
    this.#o.logger.warn({ botId: delivery.bot_id, messageId: delivery.message_id, status, leaseUntil: new Date(claimOf(delivery)).toISOString() }, 'webhook attempt not recorded: the message no longer carries its claim (its sender stalled past the claim and the message was claimed again or recorded meanwhile, or another sender\'s late success recorded it delivered during this attempt)');
  }

  /** Counts a delivery in flight until its attempt is recorded, then looks for more work. */
  #track(delivery: Delivery, attempt: Promise<void>): void {
    const userId = delivery.user_id;
    this.#inFlightPerUser.set(userId, (this.#inFlightPerUser.get(userId) ?? 0) + 1);
    this.#inFlightIds.add(delivery.id);
    this.#inFlightUrls.set(delivery.id, urlKey(delivery));
    let isRecorded = true;
    const settled: Promise<void> = attempt.catch((error: unknown) => {
      // The attempt could not be recorded (the database went away): its lease runs out and it is
      // sent again, under the same webhook-id.
      isRecorded = false;
      if (!this.#o.database.health.observe(error)) this.#o.logger.error({ err: error }, 'could not record a webhook delivery attempt; it is tried again when its lease ends');
    }).finally(() => {
      this.#inFlight.delete(settled);
      this.#inFlightIds.delete(delivery.id);
      this.#inFlightUrls.delete(delivery.id);
      this.#heldInFlight.delete(delivery.id);
      const left = (this.#inFlightPerUser.get(userId) ?? 1) - 1;
      if (left > 0) this.#inFlightPerUser.set(userId, left);
      else this.#inFlightPerUser.delete(userId);
      // The bot's next message may be due now, and there is room again. Not after a failure to
      // record: the loop's own pause (and the database's return) paces the next pass then.
      if (isRecorded) this.#loop.wake();
    });
    this.#inFlight.add(settled);
  }

  /** `stored`: the user's secrets as stored (sealed, or not), the current one first, then those a rotation retired that still sign. */
  async #deliver(delivery: Delivery, stored: readonly string[]): Promise<void> {
    const { clock, database, metrics, logger } = this.#o;
    const sentAt = clock.now();
    // A current secret that cannot be opened (key missing or changed) fails this user's deliveries
    // visibly and leaves everyone else's flowing; it must never stall the whole outbox. A retired
    // one that cannot be opened only loses its signature.
    const secrets: string[] = [];
    for (const [i, value] of stored.entries()) {
      try {
        secrets.push(openWebhookSecret(value, this.#o.secretBox));
      } catch (error) {
        logger.error({ err: error, botId: delivery.bot_id, messageId: delivery.message_id }, i === 0 ? 'cannot open the webhook secret to sign a delivery' : 'cannot open a rotated-out webhook secret; the delivery goes without its signature');
        if (i === 0) {
          secrets.length = 0;
          break;
        }
      }
    }
    const timestamp = new Date(sentAt);
    const signatures = {
      standard: secrets.map((s) => new Webhook(s).sign(delivery.message_id, timestamp, delivery.payload)).join(' '),
      // One secret only (the header has room for one): the current one.
      meetstream: secrets.length === 0 ? '' : meetstreamSignature(secrets[0]!, delivery.payload),
    };
    const result = secrets.length === 0 ? { status: null, error: 'webhook secret cannot be opened (CREDENTIALS_ENCRYPTION_KEY missing or changed)', isPermanent: false } : await this.#send(delivery, sentAt, signatures);
    if (result.isInterrupted) {
      // Ended by a stop before its answer: whether the receiver took it is unknown, so it goes
      // again (same webhook-id, which receivers deduplicate on) as soon as anyone looks, with no
      // attempt counted against it and no backoff.
      // (Said once the hand-back worked; a message no longer under this claim is someone else's
      // now, and the claim_lost warning says so.)
      if (await this.#handBack(delivery)) logger.info({ botId: delivery.bot_id, messageId: delivery.message_id }, 'webhook delivery ended by the stop before its answer; it is sent again');
      else this.#claimLost(delivery, null);
      return;
    }
    const now = clock.now();
    const delivered = result.status !== null && result.status >= 200 && result.status < 300;
    const attempts = delivery.attempts + 1;
    // A receiver that answers and refuses this message twice in a row (after a few attempts in
    // all) has it set aside (failed, redeliverable), so that one message it will not take does not
    // hold the bot's later ones back for days. An outage keeps the line.
    const isGone = result.status === GONE;
    const isSetAside = isGone || (isRefusal(result.status) && isRefusal(lastStatusOf(delivery.last_error)) && attempts >= REFUSED_ATTEMPTS);
    metrics.webhookDeliveries.inc({ outcome: delivered ? 'delivered' : result.isPermanent ? 'refused' : isGone ? 'gone' : isSetAside ? 'set_aside' : result.status === null ? 'no_answer' : `http_${Math.floor(result.status / 100)}xx` });
    if (delivered) {
      // A 2xx is the receiver's word that it has the message, whoever holds the claim now: an
      // attempt whose claim was lost meanwhile still records it delivered while it waits and was
      // never recorded delivered (retrying after another sender's failure, or under way there:
      // that sender's record then finds its claim gone). One recorded delivered since (and perhaps
      // redelivered by its owner after that), or given up, is left to that record. Its attempts
      // count the other senders' too.
      await this.#fenced(delivery, result.status, () => retryingConflicts(() => database.db.transaction().execute(async (trx) => {
        // The receiver takes webhooks again: the bot's messages to it go out again, and the user's
        // messages to it at the usual pace. (The URL's rows first, then messages' rows: the order
        // every writer of both takes, so that none waits for another in a circle.)
        await trx.deleteFrom('webhook_url_holds').where('user_id', '=', delivery.user_id).where('url', '=', delivery.url).execute();
        await trx.deleteFrom('gone_webhook_urls').where('bot_id', '=', delivery.bot_id).where('url', '=', delivery.url).execute();
        const recorded = await trx.updateTable('webhook_deliveries').set({
          state: 'delivered', attempts: (eb) => eb('attempts', '+', 1), last_attempt_at_ms: sentAt, delivered_at: now, last_error: null,
          // Its own claim cleared; another sender's, under way, left to that sender (a redelivery
          // asked meanwhile then waits for that attempt, whose outcome counts).
          lease_until_ms: (eb) => eb.case().when('lease_until_ms', '=', claimOf(delivery)).then(sql<number | null>`null`).else(eb.ref('lease_until_ms')).end(),
        })
          .where('id', '=', delivery.id)
          // Only while it waits, under this claim or never delivered nor redelivered (a message
          // given up and redelivered since is its owner's to send again, as after a delivery).
          .where('state', '=', 'pending')
          .where((eb) => eb.or([eb('lease_until_ms', '=', claimOf(delivery)), eb.and([eb('delivered_at', 'is', null), eb('redelivered', '=', 0)])]))
          .returning('id').executeTakeFirst();
        if (!recorded) throw new ClaimLost();
      })));
      return;
    }
    const error = result.status === null ? (result.error ?? 'no answer') : answerText(result.status, result.location ?? null);
    // A receiver struggling holds its URL back as a whole (webhook_url_holds); from this answer on,
    // until the hold is written, no other message of the user's goes to it from here.
    const isHolding = holdsUrl(result.status, result.isNoAnswer === true);
    if (isHolding) this.#heldInFlight.set(delivery.id, { userId: delivery.user_id, url: delivery.url });
    if (result.isPermanent) {
      // The guard's verdict does not change by retrying: no retry storm against a private address.
      const givenUp = await retryingConflicts(() => database.db.updateTable('webhook_deliveries').set({ state: 'failed', attempts, last_attempt_at_ms: sentAt, lease_until_ms: null, last_error: error.slice(0, 500) })
        .where('id', '=', delivery.id).where('lease_until_ms', '=', claimOf(delivery)).where('state', '=', 'pending').executeTakeFirst());
      if (Number(givenUp.numUpdatedRows) === 0) return this.#claimLost(delivery, null);
      logger.warn({ botId: delivery.bot_id, messageId: delivery.message_id, reason: error }, 'webhook not sent and given up');
      return;
    }
    const isExpired = now - delivery.created_at > this.#o.maxAgeMs;
    const nextAttemptAt = now + Math.max(webhookRetryDelayMs(attempts, this.#o.retryBaseMs), result.retryAfterMs ?? 0);
    const isRecordingFailure = secrets.length > 0 && !isGone;
    // Run again, whole, when PostgreSQL rolls it back for a deadlock or a serialization failure
    // (retryingConflicts): left unrecorded, the message would stay claimed and go again, late,
    // when its claim ran out. The answer's outcome is counted above, once per attempt; what the
    // record decides (the message retried, set aside or given up, the URL held back or disabled, a
    // gone line) is logged once it is committed (`recorded`, and the warnings after it), and not
    // at all when the claim was lost (ClaimLost: nothing of the record is written).
    const outcome = await this.#fenced(delivery, result.status, () => retryingConflicts(() => database.db.transaction().execute(async (trx) => {
      // A failure or a 410 to record: the bot's row is share-locked first (#lockBotForRecord),
      // then the URL's record (the user's hold, or the bot's gone line), then this message, then
      // the URL's other waiting messages in id order: the order of every writer of them. A record
      // and the messages it gives up are written together, so that a deletion of the bot's data
      // sees both or neither (it would otherwise leave a record naming a deleted message).
      if (isRecordingFailure || isGone) await this.#lockBotForRecord(trx, delivery);
      const locked = isRecordingFailure ? await this.#lockHold(trx, delivery, now) : null;
      if (isGone) await this.#recordGone(trx, delivery);
      // Only while the message still carries this sender's claim is anything recorded: its update
      // checks the claim and, the claim gone, throws ClaimLost, which rolls back the hold or gone
      // line written above (taken first all the same: the lock order).
      const claimed = await trx.updateTable('webhook_deliveries').set({
        state: isExpired || isSetAside ? 'failed' : 'pending',
        attempts,
        last_attempt_at_ms: sentAt,
        // A receiver that asks for a pause (429 or 503 with Retry-After) gets it, up to an hour (MAX_RETRY_AFTER_MS, applied where it is read).
        next_attempt_at_ms: nextAttemptAt,
        lease_until_ms: null,
        last_error: error.slice(0, 500),
      }).where('id', '=', delivery.id).where('lease_until_ms', '=', claimOf(delivery)).where('state', '=', 'pending').returning('id').executeTakeFirst();
      if (!claimed) throw new ClaimLost();
      // The pause is the receiver's, not this message's (Standard Webhooks, "Delivery success and
      // failure": a 429 asks the sender to throttle; a 502, 503 or 504 or no answer finds it down):
      // the user's other messages to the same URL, other bots' lines among them and those queued
      // later, wait for its end too, none of them counted as tried.
      // Every failed attempt at the URL (not a 410: that closes the bot's line on its own) extends
      // its run of failures, which disables it after days.
      const recorded = locked !== null ? await this.#recordFailure(trx, locked.row, delivery, sentAt, now, result.retryAfterMs ?? null, isHolding) : () => {};
      return { unsent: isGone ? await this.#failGoneLine(trx, delivery, now) : 0, recorded };
    })));
    if (outcome === null) return;
    const { unsent, recorded } = outcome;
    if (!isExpired && !isSetAside) this.#failures.note({ botId: delivery.bot_id, messageId: delivery.message_id, attempt: attempts, reason: error });
    if (isExpired) logger.warn({ botId: delivery.bot_id, messageId: delivery.message_id, attempts }, 'webhook given up after retrying for its whole lifetime');
    else if (isSetAside) logger.warn({ botId: delivery.bot_id, messageId: delivery.message_id, attempts, reason: error }, 'webhook refused by its receiver and set aside; the bot\'s later webhooks go on');
    recorded();
    if (isGone) logger.warn({ botId: delivery.bot_id, messageId: delivery.message_id, attempts, notSent: unsent }, 'webhook receiver answered 410 Gone; this webhook and the bot\'s later ones to that URL are not sent');
  }

  /**
   * Share-locks the delivery's bot (on PostgreSQL) before an attempt's record is written: bots
   * come before the outbox's rows in the one lock order. A deletion of the bot's data, which locks
   * that row before it reads the records of the user's URLs and the bot's lines, waits until the
   * record is committed, or the record until the deletion is. (A hold or gone line inserted by the
   * record is not yet seen by another transaction, which would not wait for it: the deletion could
   * read the records before the insert commits and delete, after it, the message the insert names
   * and gives up, leaving the new record naming a deleted message.) A key share, held for the
   * record's few statements (the request to the receiver is over by then): an update of the bot
   * that changes none of its unique columns does not wait for it; a request that locks the bot
   * waits that long; the dispatcher, which locks bots skipping those held, decides this one again
   * 5 ms later (BUSY_BOT_RETRY_MS).
   */
  async #lockBotForRecord(trx: Transaction<Schema>, delivery: Delivery): Promise<void> {
    if (this.#o.database.engine === 'postgres') await trx.selectFrom('bots').select('id').where('id', '=', delivery.bot_id).forKeyShare().execute();
  }

  /** Records the bot's line to the delivery's URL as gone (gone_webhook_urls), naming the delivery and its owner. */
  async #recordGone(trx: Transaction<Schema>, delivery: Delivery): Promise<void> {
    await trx.insertInto('gone_webhook_urls').values({ bot_id: delivery.bot_id, url: delivery.url, user_id: delivery.user_id, message_id: delivery.message_id })
      .onConflict((oc) => oc.columns(['bot_id', 'url']).doUpdateSet({ user_id: delivery.user_id, message_id: delivery.message_id })).execute();
  }

  /**
   * The line is gone until a message of it is taken; the bot's other messages waiting for the same
   * URL go too, unsent, retrying ones among them (none of them is claimed meanwhile: only the
   * oldest waiting one of a line is), except those their owner redelivered. Answers how many.
   */
  async #failGoneLine(trx: Transaction<Schema>, delivery: Delivery, now: number): Promise<number> {
    return this.#failWaiting(trx, delivery, 'bot', now, notSentText(delivery.message_id));
  }

  /**
   * Fails unsent, with `text`, the messages to the delivery's URL still waiting and not leased,
   * of its bot (`of`: 'bot', the bot's line) or of its user (`of`: 'user', every bot's), except
   * the delivery itself and those their owner redelivered. They are locked in id order, as every
   * writer of several messages locks them (the expiry sweep among them), so that none waits for
   * another in a circle. Answers how many.
   */
  async #failWaiting(trx: Transaction<Schema>, delivery: Delivery, of: 'bot' | 'user', now: number, text: string): Promise<number> {
    let waiting = trx.selectFrom('webhook_deliveries as w').select('w.id')
      .where('w.url', '=', delivery.url).where('w.state', '=', 'pending').where('w.redelivered', '=', 0)
      .where((eb) => eb.or([eb('w.lease_until_ms', 'is', null), eb('w.lease_until_ms', '<', now)]))
      .where('w.id', '!=', delivery.id).orderBy('w.id');
    waiting = of === 'bot' ? waiting.where('w.bot_id', '=', delivery.bot_id) : waiting.where('w.user_id', '=', delivery.user_id);
    if (this.#o.database.engine === 'postgres') waiting = waiting.forUpdate();
    const unsent = await trx.updateTable('webhook_deliveries').set({ state: 'failed', lease_until_ms: null, last_error: text }).where('id', 'in', waiting).executeTakeFirst();
    return Number(unsent.numUpdatedRows);
  }

  /**
   * Locks the user's row of the URL (webhook_url_holds) for a failure to be recorded: written
   * first if there is none, then locked, so that two failures recorded at once are taken in turn
   * (on PostgreSQL, a lock asked on a row that does not exist yet locks nothing). `row`: the row as
   * it was, undefined when there was none.
   */
  async #lockHold(trx: Transaction<Schema>, delivery: Delivery, now: number): Promise<{ row: Selectable<Schema['webhook_url_holds']> | undefined }> {
    const created = await trx.insertInto('webhook_url_holds')
      .values({ user_id: delivery.user_id, url: delivery.url, paused_until_ms: 0, failures: 0, last_failure_at_ms: now, failing_since_ms: now, message_id: delivery.message_id, run_message_id: delivery.message_id, several_messages: 0, disabled_at_ms: null })
      .onConflict((oc) => oc.columns(['user_id', 'url']).doNothing()).returning('user_id').executeTakeFirst();
    if (created) return { row: undefined };
    let current = trx.selectFrom('webhook_url_holds').selectAll().where('user_id', '=', delivery.user_id).where('url', '=', delivery.url);
    if (this.#o.database.engine === 'postgres') current = current.forUpdate();
    return { row: await current.executeTakeFirst() };
  }

  /**
   * Records a failed attempt (started at `sentAt`) at the user's URL: a struggling answer
   * (`isStruggling`) holds it back, paused for the receiver's Retry-After, else for the URL's
   * backoff (the webhook schedule, by failures in a row: webhook-url-hold.ts), then one message at
   * a time until one is taken; any failure extends the URL's run of failures, and a run that has
   * lasted disableAfterMs disables the URL. Answers what to log and count once the transaction is
   * committed (it may be run again: retryingConflicts).
   */
  async #recordFailure(trx: Transaction<Schema>, row: Selectable<Schema['webhook_url_holds']> | undefined, delivery: Delivery, sentAt: number, now: number, retryAfterMs: number | null, isStruggling: boolean): Promise<() => void> {
    const previous = row ? { pausedUntilMs: Number(row.paused_until_ms), failures: row.failures, lastFailureAtMs: Number(row.last_failure_at_ms), failingSinceMs: Number(row.failing_since_ms), runMessageId: row.run_message_id, hasSeveralMessages: row.several_messages === 1 } : null;
    const wasDisabled = row?.disabled_at_ms != null;
    const hold = nextUrlHold(previous, { messageId: delivery.message_id, startedAtMs: sentAt, nowMs: now, retryAfterMs, isStruggling, isDisabled: wasDisabled }, (failures) => webhookRetryDelayMs(failures, this.#o.retryBaseMs));
    const isDisabling = !wasDisabled && isDueToDisable(hold, now, this.#o.disableAfterMs);
    await trx.updateTable('webhook_url_holds').set({
      // (Disabled, the URL is sent nothing but redelivered messages: no pause keeps the others waiting to fail.)
      paused_until_ms: isDisabling ? 0 : hold.pausedUntilMs, failures: hold.failures, last_failure_at_ms: hold.lastFailureAtMs, failing_since_ms: hold.failingSinceMs,
      message_id: delivery.message_id, run_message_id: hold.runMessageId, several_messages: hold.hasSeveralMessages ? 1 : 0,
      disabled_at_ms: isDisabling ? now : wasDisabled ? Number(row.disabled_at_ms) : null,
    }).where('user_id', '=', delivery.user_id).where('url', '=', delivery.url).execute();
    const isNewlyStruggling = isStruggling && hold.failures === 1 && (previous === null || previous.failures === 0 || previous.failingSinceMs !== hold.failingSinceMs);
    const warnStruggling = () => {
      if (isNewlyStruggling) this.#o.logger.warn({ botId: delivery.bot_id, messageId: delivery.message_id, pausedForMs: hold.pausedUntilMs - now }, 'webhook receiver struggling; the user\'s webhooks to that URL wait, then go one at a time until one is taken');
    };
    // Disabled (by this failure or before it, while this attempt was under way): the message is
    // given up with its own error, unless its owner redelivered it.
    if (isDisabling || wasDisabled) await trx.updateTable('webhook_deliveries').set({ state: 'failed' }).where('id', '=', delivery.id).where('redelivered', '=', 0).execute();
    if (!isDisabling) return warnStruggling;
    // Every other message of the user's to the URL still waiting fails unsent (those their owner
    // redelivered go on); those queued later fail when their turn comes.
    const unsent = await this.#failWaiting(trx, delivery, 'user', now, disabledText(hold.failingSinceMs, delivery.message_id));
    return () => {
      warnStruggling();
      if (unsent > 0) this.#o.metrics.webhookDeliveries.inc({ outcome: 'disabled' }, unsent);
      this.#o.logger.warn({ botId: delivery.bot_id, messageId: delivery.message_id, failingSince: new Date(hold.failingSinceMs).toISOString(), notSent: unsent }, 'webhook URL disabled: every attempt to it has failed for days; the user\'s webhooks to it are not sent until a redelivered one is taken');
    };
  }

  /** One POST, no redirects (a 3xx is an answer); null status when no answer came (`isNoAnswer` when the receiver could not be reached or did not answer in time). */
  async #send(delivery: Delivery, sentAt: number, signatures: { standard: string; meetstream: string }): Promise<{ status: number | null; error: string | null; isPermanent: boolean; isInterrupted?: boolean; isNoAnswer?: boolean; retryAfterMs?: number | null; location?: string | null }> {
    try {
      const response = await this.#o.http.request({
        method: 'POST',
        url: delivery.url,
        headers: {
          'content-type': 'application/json',
          'webhook-id': delivery.message_id,
          'webhook-timestamp': Math.floor(sentAt / 1000).toString(),
          'webhook-signature': signatures.standard,
          'x-meetstream-signature': signatures.meetstream,
          'x-meetstream-timestamp': new Date(sentAt).toISOString(),
          'user-agent': 'Rollcall-Webhooks/1',
        },
        body: delivery.payload,
        timeoutMs: this.#o.timeoutMs,
        // Only the status matters: the body is not waited for.
        maxBytes: 0,
        guarded: true,
        // Receivers drop repeats by webhook-id: a kept-alive connection the receiver closed just as
        // this went out costs no backoff, the message goes again at once on a new connection.
        resendOnClosedReuse: true,
        signal: this.#requests.signal,
      });
      const asksForPause = response.status === 429 || response.status === 503;
      const location = response.headers.location;
      return { status: response.status, error: null, isPermanent: false, retryAfterMs: asksForPause ? parseRetryAfterMs(response.headers, this.#o.clock.now()) : null, location: typeof location === 'string' ? location : null };
    } catch (error) {
      if (!(error instanceof OutboundError)) throw error;
      if (error.kind === 'blocked') return { status: null, error: 'refused: the callback URL does not lead to a public address', isPermanent: true };
      if (error.kind === 'invalid_url') return { status: null, error: 'refused: the callback URL is not valid', isPermanent: true };
      if (error.kind === 'aborted') return { status: null, error: null, isPermanent: false, isInterrupted: true };
      return { status: null, error: error.message, isPermanent: false, isNoAnswer: error.kind === 'timeout' || error.kind === 'unreachable' };
    }
  }
}
