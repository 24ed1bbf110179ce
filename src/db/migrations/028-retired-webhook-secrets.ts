import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/** How long a rotated-out secret went on signing when only one was kept (SECRET_ROTATION_OVERLAP_MS then). */
const OVERLAP_MS = 24 * 60 * 60 * 1000;

/**
 * retired_webhook_secrets: each webhook secret a rotation replaced, signing beside the current
 * one until its own end (a day after its rotation). One previous secret per user
 * (users.previous_webhook_secret) meant that a second rotation within the day, such as a retried
 * rotate request, cut the first one's overlap short and broke receivers still on the old secret.
 * The previous secret still signing moves here with the end it had. The old column stays, unused,
 * so that an instance of the version before, still running during an upgrade, keeps working (a
 * rotation it makes meanwhile keeps the old secret's overlap only on that instance).
 */
export const retiredWebhookSecrets: Migration = {
  version: 28,
  name: 'retired-webhook-secrets',
  async up(db: Kysely<any>, engine) {
    await db.schema.createTable('retired_webhook_secrets')
      .addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      /** Sealed like users.webhook_secret (src/services/access/secrets-at-rest.ts). */
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('retired_at', 'bigint', (c) => c.notNull())
      .addColumn('valid_until', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('retired_webhook_secrets_user').on('retired_webhook_secrets').columns(['user_id', 'valid_until']).execute();
    await db.insertInto('retired_webhook_secrets').columns(['user_id', 'secret', 'retired_at', 'valid_until'])
      .expression(db.selectFrom('users').select((eb) => ['id', 'previous_webhook_secret', 'webhook_secret_rotated_at', eb('webhook_secret_rotated_at', '+', OVERLAP_MS).as('valid_until')])
        .where('previous_webhook_secret', 'is not', null).where('webhook_secret_rotated_at', '>', Date.now() - OVERLAP_MS))
      .execute();
  },
};
