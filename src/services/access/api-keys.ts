// Users and their API keys. A key is shown once, at creation; only its sha256 is stored.
// Each user's webhook signing secret is sealed with the credentials key when one is configured.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId, randomToken } from '../../lib/ids.ts';
import { SecretBox } from '../../lib/secret-box.ts';

const KEY_PREFIX = 'rck_';
const KEY_SHAPE = /^rck_[0-9a-z]{40}$/;

export interface AuthenticatedUser {
  userId: string;
  keyId: string;
}

export interface ApiKeySummary {
  id: string;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The value to store for a webhook secret: sealed when a credentials key is configured. */
export function sealWebhookSecret(secret: string, box: SecretBox | null): string {
  return box ? box.encrypt(secret) : secret;
}

/**
 * The secret behind a stored value. Plaintext values pass through: they were written before a
 * key was configured (start-up seals those) or by a writer that was not given the key.
 */
export function openWebhookSecret(stored: string, box: SecretBox | null): string {
  if (!SecretBox.isSealed(stored)) return stored;
  if (!box) throw new Error('The webhook secret is sealed but CREDENTIALS_ENCRYPTION_KEY is not set');
  return box.decrypt(stored);
}

export interface UserSecretOptions {
  /** Seals the new user's webhook secret; null or absent stores it in plaintext. */
  secretBox?: SecretBox | null;
}

export async function findOrCreateUser(db: Kysely<Schema>, name: string, clock: Clock, options: UserSecretOptions = {}): Promise<string> {
  const existing = await db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
  if (existing) return existing.id;
  const id = newId('usr');
  await db.insertInto('users')
    .values({ id, name, webhook_secret: sealWebhookSecret(newWebhookSecret(), options.secretBox ?? null), webhook_secret_rotated_at: null, created_at: clock.now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirstOrThrow();
  return row.id;
}

/** Creates a key for the named user (creating the user if needed) and returns the key text. */
export async function createApiKey(db: Kysely<Schema>, userName: string, clock: Clock, options: UserSecretOptions = {}): Promise<{ key: string; keyId: string; userId: string }> {
  const userId = await findOrCreateUser(db, userName, clock, options);
  const key = KEY_PREFIX + randomToken(40);
  const keyId = newId('key');
  await db.insertInto('api_keys')
    .values({ id: keyId, user_id: userId, key_hash: hashKey(key), key_prefix: key.slice(0, 10), created_at: clock.now(), revoked_at: null, last_used_at: null })
    .execute();
  return { key, keyId, userId };
}

export async function listApiKeys(db: Kysely<Schema>, userName: string): Promise<ApiKeySummary[] | null> {
  const user = await db.selectFrom('users').select('id').where('name', '=', userName).executeTakeFirst();
  if (!user) return null;
  const rows = await db.selectFrom('api_keys').selectAll().where('user_id', '=', user.id).orderBy('created_at').orderBy('id').execute();
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return rows.map((r) => ({ id: r.id, prefix: r.key_prefix, created_at: iso(r.created_at)!, revoked_at: iso(r.revoked_at), last_used_at: iso(r.last_used_at) }));
}

/** Revokes a key (again is a no-op); null when there is no such key. */
export async function revokeApiKey(db: Kysely<Schema>, keyId: string, clock: Clock): Promise<{ revokedAtMs: number; wasRevokedBefore: boolean } | null> {
  const key = await db.selectFrom('api_keys').select(['id', 'revoked_at']).where('id', '=', keyId).executeTakeFirst();
  if (!key) return null;
  if (key.revoked_at !== null) return { revokedAtMs: Number(key.revoked_at), wasRevokedBefore: true };
  const now = clock.now();
  // Only while not revoked: of two revocations at once, one revokes and the other says it was done.
  const result = await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', keyId).where('revoked_at', 'is', null).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    const revoked = await db.selectFrom('api_keys').select('revoked_at').where('id', '=', keyId).executeTakeFirstOrThrow();
    return { revokedAtMs: Number(revoked.revoked_at), wasRevokedBefore: true };
  }
  return { revokedAtMs: now, wasRevokedBefore: false };
}

/**
 * Resolves a presented key to its user. The lookup is by hash, so response time does not depend
 * on how much of a guessed key is right; the final comparison is constant-time as well.
 */
export class ApiKeyAuthenticator {
  readonly #db: Kysely<Schema>;
  readonly #clock: Clock;
  /** last_used_at is written at most once a minute per key so that reads stay reads. */
  readonly #lastTouched = new Map<string, number>();

  constructor(db: Kysely<Schema>, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async authenticate(key: string): Promise<AuthenticatedUser | null> {
    if (!KEY_SHAPE.test(key)) return null;
    const hash = hashKey(key);
    const row = await this.#db.selectFrom('api_keys').select(['id', 'user_id', 'key_hash', 'revoked_at'])
      .where('key_hash', '=', hash).executeTakeFirst();
    if (!row || row.revoked_at !== null) return null;
    if (!timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
    this.#touch(row.id);
    return { userId: row.user_id, keyId: row.id };
  }

  #touch(keyId: string): void {
    const now = this.#clock.now();
    if (now - (this.#lastTouched.get(keyId) ?? 0) < 60_000) return;
    this.#lastTouched.set(keyId, now);
    // Best effort: a failed bookkeeping write must not fail the request it rides on.
    this.#db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', keyId).execute().catch(() => {});
  }
}
