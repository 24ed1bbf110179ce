// The secrets Rollcall stores sealed (docs/security.md, "Secrets at rest"): users' webhook signing
// secrets (current, and the retired ones still signing) and calendar connections' credentials. Two walks over them:
// - at start-up, with a key set, values still in plaintext (written before the key was set) are
//   sealed; a SQL filter finds them, so a start with nothing to seal reads no rows;
// - `rollcall secrets reseal`, after a key change, moves every value sealed with a previous key
//   (CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS) to the current one, and seals plaintext on the way.
// Every update is conditional on the value read, so a webhook secret rotation, a refresh token
// written by a sync, or another instance doing the same walk is never overwritten: the value they
// wrote is sealed with the current key already.
import type { Kysely, SelectQueryBuilder } from 'kysely';
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
type Verdict = { kind: 'sealed' | 'resealed'; value: string } | { kind: 'current' | 'unreadable'; value: null };

function judge(box: SecretBox, stored: string, isPlain: (value: string) => boolean): Verdict {
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

function count(report: SecretsReport, verdict: Verdict, wasWritten: boolean): void {
  if (verdict.kind === 'unreadable') report.unreadable++;
  else if (wasWritten && (verdict.kind === 'sealed' || verdict.kind === 'resealed')) report[verdict.kind]++;
}

/** A column of sealed values: its table, how its plaintext looks, and which of its rows are walked. */
interface SealedColumn {
  table: 'users' | 'retired_webhook_secrets' | 'calendar_connections';
  column: 'webhook_secret' | 'previous_webhook_secret' | 'secret' | 'credentials';
  isPlain: (value: string) => boolean;
  /** A SQL prefilter for plaintext values (judge() has the last word). */
  plaintext: { op: 'like' | 'not like'; pattern: string };
  /** Ids sort as text or as numbers: the walk starts below the first. */
  firstId: string | number;
  /** The rows walked, when not all. */
  where?: (query: SelectQueryBuilder<any, any, any>) => SelectQueryBuilder<any, any, any>;
}

const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'users', column: 'webhook_secret', isPlain: isPlainWebhookSecret, plaintext: { op: 'not like', pattern: 'v1:%' }, firstId: '' },
  // Read only by an instance of the version before migration 028 (during an upgrade), and kept
  // sealed like the rest until a later migration clears it.
  { table: 'users', column: 'previous_webhook_secret', isPlain: isPlainWebhookSecret, plaintext: { op: 'not like', pattern: 'v1:%' }, firstId: '', where: (q) => q.where('previous_webhook_secret', 'is not', null) },
  // Only those still signing: one past its day is never opened again (and goes at the user's next rotation).
  { table: 'retired_webhook_secrets', column: 'secret', isPlain: isPlainWebhookSecret, plaintext: { op: 'not like', pattern: 'v1:%' }, firstId: 0, where: (q) => q.where('valid_until', '>', Date.now()) },
  { table: 'calendar_connections', column: 'credentials', isPlain: isPlainCredentials, plaintext: { op: 'like', pattern: '{%' }, firstId: '', where: (q) => q.where('credentials', 'is not', null) },
];

/**
 * Seals what is in plaintext (`only: 'plaintext'`, start-up) or also moves what a previous key
 * sealed to the current key (`only: 'all'`). Pages by id, so it can run beside live traffic.
 */
export async function sealSecrets(db: Kysely<Schema>, box: SecretBox, only: 'plaintext' | 'all'): Promise<SecretsReport> {
  const report: SecretsReport = { sealed: 0, resealed: 0, unreadable: 0 };
  // The table and column names come from SEALED_COLUMNS, not from the schema's types.
  const loose = db as unknown as Kysely<any>;
  for (const { table, column, isPlain, plaintext, firstId, where } of SEALED_COLUMNS) {
    for (let after = firstId; ;) {
      let query = loose.selectFrom(table).select(['id', column]).where('id', '>', after).orderBy('id').limit(PAGE);
      if (where) query = where(query);
      if (only === 'plaintext') query = query.where(column, plaintext.op, plaintext.pattern);
      const rows = await query.execute() as { id: string | number; [value: string]: unknown }[];
      for (const row of rows) {
        const stored = row[column] as string;
        const verdict = judge(box, stored, isPlain);
        if (verdict.value === null) {
          count(report, verdict, false);
          continue;
        }
        const result = await loose.updateTable(table).set({ [column]: verdict.value }).where('id', '=', row.id).where(column, '=', stored).executeTakeFirst();
        count(report, verdict, Number(result.numUpdatedRows) > 0);
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!.id;
    }
  }
  return report;
}

/** How many users have a sealed webhook secret (which cannot be used without the key). */
export async function countSealedWebhookSecrets(db: Kysely<Schema>): Promise<number> {
  const users = await db.selectFrom('users').select('webhook_secret').where('webhook_secret', 'like', 'v1:%').execute();
  return users.filter((u) => SecretBox.isSealed(u.webhook_secret)).length;
}

/**
 * Sealed values that none of the configured keys opens: users whose current webhook secret is one
 * (their webhooks cannot be signed) and calendar connections whose credentials are (they cannot
 * sync). After a key change without the old key among the previous keys, both are everyone's.
 */
export async function countUnopenableSecrets(db: Kysely<Schema>, box: SecretBox): Promise<{ users: number; calendarConnections: number; sealed: number }> {
  const opens = (value: string) => {
    try {
      box.decrypt(value);
      return true;
    } catch {
      return false;
    }
  };
  const users = await db.selectFrom('users').select('webhook_secret').where('webhook_secret', 'like', 'v1:%').execute();
  const connections = await db.selectFrom('calendar_connections').select('credentials').where('credentials', 'like', 'v1:%').execute();
  const sealedUsers = users.filter((u) => SecretBox.isSealed(u.webhook_secret));
  const sealedConnections = connections.filter((c) => c.credentials !== null && SecretBox.isSealed(c.credentials));
  return {
    users: sealedUsers.filter((u) => !opens(u.webhook_secret)).length,
    calendarConnections: sealedConnections.filter((c) => !opens(c.credentials!)).length,
    sealed: sealedUsers.length + sealedConnections.length,
  };
}

/**
 * True when `box` opens none of the sealed values while some exist: the key is not the one that
 * sealed them (a typo, another deployment's key), and anything sealed with it would be lost to the
 * right one.
 */
export async function opensNoneOfTheSealed(db: Kysely<Schema>, box: SecretBox): Promise<boolean> {
  return opensNone(await countUnopenableSecrets(db, box));
}

/** The rule of opensNoneOfTheSealed, on counts already taken. */
export function opensNone(unopenable: { users: number; calendarConnections: number; sealed: number }): boolean {
  return unopenable.sealed > 0 && unopenable.users + unopenable.calendarConnections === unopenable.sealed;
}
