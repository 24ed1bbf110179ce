// The secrets Rollcall stores sealed (docs/security.md, "Secrets at rest"): users' webhook signing
// secrets (current, and the retired ones still signing) and calendar connections' credentials. Two walks over them:
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
    let query = db.selectFrom('users').select(['id', 'webhook_secret']).where('id', '>', after).orderBy('id').limit(PAGE);
    // A prefilter only; judge() has the last word.
    if (only === 'plaintext') query = query.where('webhook_secret', 'not like', 'v1:%');
    const users = await query.execute();
    for (const user of users) {
      const verdict = judge(box, user.webhook_secret, isPlainWebhookSecret);
      if (verdict.value === null) {
        count(report, [verdict], false);
        continue;
      }
      const result = await db.updateTable('users').set({ webhook_secret: verdict.value })
        .where('id', '=', user.id).where('webhook_secret', '=', user.webhook_secret).executeTakeFirst();
      count(report, [verdict], Number(result.numUpdatedRows) > 0);
    }
    if (users.length < PAGE) break;
    after = users[users.length - 1]!.id;
  }
  for (let after = 0; ;) {
    // Only those still signing: one past its day is never opened again (and goes at the user's next rotation).
    let query = db.selectFrom('retired_webhook_secrets').select(['id', 'secret']).where('id', '>', after).where('valid_until', '>', Date.now()).orderBy('id').limit(PAGE);
    if (only === 'plaintext') query = query.where('secret', 'not like', 'v1:%');
    const retired = await query.execute();
    for (const row of retired) {
      const verdict = judge(box, row.secret, isPlainWebhookSecret);
      if (verdict.value === null) {
        count(report, [verdict], false);
        continue;
      }
      const result = await db.updateTable('retired_webhook_secrets').set({ secret: verdict.value })
        .where('id', '=', row.id).where('secret', '=', row.secret).executeTakeFirst();
      count(report, [verdict], Number(result.numUpdatedRows) > 0);
    }
    if (retired.length < PAGE) break;
    after = Number(retired[retired.length - 1]!.id);
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

/** How many users have a sealed webhook secret, current or retired (which cannot be used without the key). */
export async function countSealedWebhookSecrets(db: Kysely<Schema>): Promise<number> {
  const current = await db.selectFrom('users').select(['id', 'webhook_secret']).where('webhook_secret', 'like', 'v1:%').execute();
  const retired = await db.selectFrom('retired_webhook_secrets').select(['user_id', 'secret']).where('secret', 'like', 'v1:%').where('valid_until', '>', Date.now()).execute();
  const users = new Set<string>();
  for (const row of current) if (SecretBox.isSealed(row.webhook_secret)) users.add(row.id);
  for (const row of retired) if (SecretBox.isSealed(row.secret)) users.add(row.user_id);
  return users.size;
}
