// The secrets Rollcall stores sealed (docs/security.md, "Secrets at rest"): users' webhook signing
// secrets (current and previous) and calendar connections' credentials. Two walks over them:
// - at start-up, with a key set, values still in plaintext (written before the key was set) are
//   sealed; a SQL filter finds them, so a start with nothing to seal reads no rows;
// - `rollcall secrets reseal`, after a key change, moves every value sealed with a previous key
//   (CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS) to the current one, and seals plaintext on the way.
// Every update is conditional on the value read, so a webhook secret rotation, a refresh token
// written by a sync, or another instance doing the same walk is never overwritten: the value they
// wrote is sealed with the current key already.
import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.ts';
import { SecretBox } from '../../lib/secret-box.ts';

/** Rows read per query: bounded memory whatever the table's size. */
const PAGE = 500;

export interface SecretsReport {
  /** Values that were in plaintext and are now sealed. */
  sealed: number;
  /** Values moved from a previous key to the current one. */
  resealed: number;
  /** Values no configured key opens (sealed with a key that is not configured). */
  unreadable: number;
}

/** How a stored value stands against the box, and what to write instead (null: leave it). */
type Verdict = { kind: 'sealed' | 'resealed'; value: string } | { kind: 'current' | 'unreadable' | 'absent'; value: null };

function judge(box: SecretBox, stored: string | null, isPlain: (value: string) => boolean): Verdict {
  if (stored === null) return { kind: 'absent', value: null };
  if (isPlain(stored)) return { kind: 'sealed', value: box.encrypt(stored) };
  try {
    const resealed = box.resealed(stored);
    return resealed === null ? { kind: 'current', value: null } : { kind: 'resealed', value: resealed };
  } catch {
    return { kind: 'unreadable', value: null };
  }
}

/** A webhook secret in plaintext starts with whsec_; a sealed one with v1:. */
const isPlainWebhookSecret = (value: string) => !SecretBox.isSealed(value);
/** Credentials in plaintext are JSON (an ICS feed stored without a key). */
const isPlainCredentials = (value: string) => value.startsWith('{');

function count(report: SecretsReport, verdicts: Verdict[], wasWritten: boolean): void {
  for (const v of verdicts) {
    if (v.kind === 'unreadable') report.unreadable++;
    else if (wasWritten && (v.kind === 'sealed' || v.kind === 'resealed')) report[v.kind]++;
  }
}

/**
 * Seals what is in plaintext (`only: 'plaintext'`, start-up) or also moves what a previous key
 * sealed to the current key (`only: 'all'`). Pages by id, so it can run beside live traffic.
 */
export async function sealSecrets(db: Kysely<Schema>, box: SecretBox, only: 'plaintext' | 'all'): Promise<SecretsReport> {
  const report: SecretsReport = { sealed: 0, resealed: 0, unreadable: 0 };
  for (let after = ''; ;) {
    let query = db.selectFrom('users').select(['id', 'webhook_secret', 'previous_webhook_secret']).where('id', '>', after).orderBy('id').limit(PAGE);
    // A prefilter only; judge() has the last word.
    if (only === 'plaintext') query = query.where((eb) => eb.or([eb('webhook_secret', 'not like', 'v1:%'), eb('previous_webhook_secret', 'not like', 'v1:%')]));
    const users = await query.execute();
    for (const user of users) {
      const current = judge(box, user.webhook_secret, isPlainWebhookSecret);
      const previous = judge(box, user.previous_webhook_secret, isPlainWebhookSecret);
      if (current.value === null && previous.value === null) {
        count(report, [current, previous], false);
        continue;
      }
      let update = db.updateTable('users')
        .set({ webhook_secret: current.value ?? user.webhook_secret, previous_webhook_secret: previous.value ?? user.previous_webhook_secret })
        .where('id', '=', user.id).where('webhook_secret', '=', user.webhook_secret);
      update = user.previous_webhook_secret === null ? update.where('previous_webhook_secret', 'is', null) : update.where('previous_webhook_secret', '=', user.previous_webhook_secret);
      count(report, [current, previous], Number((await update.executeTakeFirst()).numUpdatedRows) > 0);
    }
    if (users.length < PAGE) break;
    after = users[users.length - 1]!.id;
  }
  for (let after = ''; ;) {
    let query = db.selectFrom('calendar_connections').select(['id', 'credentials']).where('id', '>', after).where('credentials', 'is not', null).orderBy('id').limit(PAGE);
    if (only === 'plaintext') query = query.where('credentials', 'like', '{%');
    const connections = await query.execute();
    for (const connection of connections) {
      const verdict = judge(box, connection.credentials, isPlainCredentials);
      if (verdict.value === null) {
        count(report, [verdict], false);
        continue;
      }
      const result = await db.updateTable('calendar_connections').set({ credentials: verdict.value })
        .where('id', '=', connection.id).where('credentials', '=', connection.credentials).executeTakeFirst();
      count(report, [verdict], Number(result.numUpdatedRows) > 0);
    }
    if (connections.length < PAGE) break;
    after = connections[connections.length - 1]!.id;
  }
  return report;
}

/** How many users have a sealed webhook secret (which cannot be used without the key). */
export async function countSealedWebhookSecrets(db: Kysely<Schema>): Promise<number> {
  const users = await db.selectFrom('users').select(['webhook_secret', 'previous_webhook_secret'])
    .where((eb) => eb.or([eb('webhook_secret', 'like', 'v1:%'), eb('previous_webhook_secret', 'like', 'v1:%')]))
    .execute();
  return users.filter((u) => SecretBox.isSealed(u.webhook_secret) || (u.previous_webhook_secret !== null && SecretBox.isSealed(u.previous_webhook_secret))).length;
}
