// Each user's webhook signing secret: readable by its owner, and rotatable. A rotated-out secret
// keeps signing beside the new one for a day after its own rotation, so receivers can switch
// without a gap; each rotation's secret has its own day, so a second rotation within the day
// (a retried rotate request) does not cut the first one's short.
import type { Kysely } from 'kysely';
import type { Db } from '../../store/event-store.ts';
import type { Schema } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatInstant, formatOptionalInstant } from '../../lib/time.ts';
import type { SecretBox } from '../../lib/secret-box.ts';
import { newWebhookSecret, openWebhookSecret, sealWebhookSecret } from '../access/api-keys.ts';
import { ApiError } from '../../errors.ts';
import { retryingConflicts } from '../../db/race-retry.ts';

/** A rotated-out secret keeps signing alongside the new one this long. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/**
 * Rotated-out secrets signing at once, at most: each adds a signature to every delivery. A
 * rotation past it ends the oldest one's overlap early.
 */
export const MAX_SIGNING_RETIRED_SECRETS = 10;

export interface WebhookSecretView {
  secret: string;
  rotated_at: string | null;
  /** When the last of the rotated-out secrets still signing stops; null when none does. */
  previous_secret_valid_until: string | null;
}

/** Per user, the sealed rotated-out secrets still signing at `nowMs`, newest first. */
export async function signingRetiredSecrets(db: Db, userIds: readonly string[], nowMs: number): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>();
  if (userIds.length === 0) return byUser;
  const rows = await db.selectFrom('retired_webhook_secrets').select(['user_id', 'secret'])
    .where('user_id', 'in', [...userIds]).where('valid_until', '>', nowMs).orderBy('retired_at', 'desc').orderBy('id', 'desc').execute();
  for (const row of rows) {
    const secrets = byUser.get(row.user_id) ?? [];
    if (secrets.length < MAX_SIGNING_RETIRED_SECRETS) byUser.set(row.user_id, [...secrets, row.secret]);
  }
  return byUser;
}

export class WebhookSecrets {
  readonly #db: Kysely<Schema>;
  readonly #clock: Clock;
  /** Seals secrets at rest when CREDENTIALS_ENCRYPTION_KEY is set; null keeps them in plaintext. */
  readonly #box: SecretBox | null;

  constructor(deps: { db: Kysely<Schema>; clock: Clock; secretBox?: SecretBox | null }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#box = deps.secretBox ?? null;
  }

  /**
   * A secret no configured key opens is the deployment's fault, not the caller's and not a bug:
   * a 503 with its own code (the log of the start-up says which key is missing).
   */
  #open(stored: string): string {
    try {
      return openWebhookSecret(stored, this.#box);
    } catch {
      throw new ApiError('secret_unavailable', 'The webhook secret is stored encrypted and cannot be opened with the keys this deployment is configured with; the operator must restore CREDENTIALS_ENCRYPTION_KEY (or the old key in CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS)');
    }
  }

  async get(userId: string): Promise<WebhookSecretView> {
    const now = this.#clock.now();
    const user = await this.#db.selectFrom('users').select(['webhook_secret', 'webhook_secret_rotated_at']).where('id', '=', userId).executeTakeFirstOrThrow();
    const last = await this.#db.selectFrom('retired_webhook_secrets').select('valid_until').where('user_id', '=', userId).where('valid_until', '>', now)
      .orderBy('valid_until', 'desc').limit(1).executeTakeFirst();
    return {
      secret: this.#open(user.webhook_secret),
      rotated_at: formatOptionalInstant(user.webhook_secret_rotated_at),
      previous_secret_valid_until: last ? formatInstant(Number(last.valid_until)) : null,
    };
  }

  /** A rotation PostgreSQL rolls back for a deadlock or a serialization failure runs again, whole (a new secret made again). */
  async rotate(userId: string): Promise<WebhookSecretView> {
    await retryingConflicts(() => this.#db.transaction().execute(async (trx) => {
      // The user's row written first (to itself), so that two rotations of one user take turns:
      // each retires the secret the other made, not the same one twice; the time is read once
      // the turn has come, so that later rotations retire later.
      await trx.updateTable('users').set((eb) => ({ webhook_secret_rotated_at: eb.ref('webhook_secret_rotated_at') })).where('id', '=', userId).execute();
      const now = this.#clock.now();
      const user = await trx.selectFrom('users').select(['webhook_secret']).where('id', '=', userId).executeTakeFirstOrThrow();
      // Opened and sealed again, so a plaintext secret from before the key was set leaves sealed.
      const retired = sealWebhookSecret(this.#open(user.webhook_secret), this.#box);
      await trx.insertInto('retired_webhook_secrets').values({ user_id: userId, secret: retired, retired_at: now, valid_until: now + SECRET_ROTATION_OVERLAP_MS }).execute();
      // Those past their day, and the oldest past the limit, go.
      const signing = await trx.selectFrom('retired_webhook_secrets').select('id').where('user_id', '=', userId).where('valid_until', '>', now)
        .orderBy('retired_at', 'desc').orderBy('id', 'desc').execute();
      const kept = signing.slice(0, MAX_SIGNING_RETIRED_SECRETS).map((r) => r.id);
      await trx.deleteFrom('retired_webhook_secrets').where('user_id', '=', userId).where('id', 'not in', kept).execute();
      await trx.updateTable('users').set({ webhook_secret: sealWebhookSecret(newWebhookSecret(), this.#box), webhook_secret_rotated_at: now }).where('id', '=', userId).execute();
    }));
    return this.get(userId);
  }
}
