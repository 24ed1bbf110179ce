// Each user's webhook signing secret: readable by its owner, and rotatable. After a rotation the
// old secret keeps signing beside the new one for a day, so receivers can switch without a gap.
import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatInstant, formatOptionalInstant } from '../../lib/time.ts';
import type { SecretBox } from '../../lib/secret-box.ts';
import { newWebhookSecret, openWebhookSecret, sealWebhookSecret } from '../access/api-keys.ts';
import { SECRET_ROTATION_OVERLAP_MS } from './webhook-delivery.ts';

export interface WebhookSecretView {
  secret: string;
  rotated_at: string | null;
  previous_secret_valid_until: string | null;
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

  async get(userId: string): Promise<WebhookSecretView> {
    const user = await this.#db.selectFrom('users').select(['webhook_secret', 'webhook_secret_rotated_at']).where('id', '=', userId).executeTakeFirstOrThrow();
    const validUntil = user.webhook_secret_rotated_at === null ? null : user.webhook_secret_rotated_at + SECRET_ROTATION_OVERLAP_MS;
    return {
      secret: openWebhookSecret(user.webhook_secret, this.#box),
      rotated_at: formatOptionalInstant(user.webhook_secret_rotated_at),
      previous_secret_valid_until: validUntil !== null && validUntil > this.#clock.now() ? formatInstant(validUntil) : null,
    };
  }

  async rotate(userId: string): Promise<WebhookSecretView> {
    const now = this.#clock.now();
    await this.#db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select(['webhook_secret']).where('id', '=', userId).executeTakeFirstOrThrow();
      // Opened and sealed again, so a plaintext secret from before the key was set leaves sealed.
      const previous = sealWebhookSecret(openWebhookSecret(user.webhook_secret, this.#box), this.#box);
      await trx.updateTable('users').set({ previous_webhook_secret: previous, webhook_secret: sealWebhookSecret(newWebhookSecret(), this.#box), webhook_secret_rotated_at: now })
        .where('id', '=', userId).execute();
    });
    return this.get(userId);
  }
}
