import { randomBytes } from 'node:crypto';

// Lower-case letters and digits only: ids then sort the same under any database collation as in
// JavaScript, which keyset paging relies on (PostgreSQL collations other than C order mixed case
// and punctuation differently from code-unit order).
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Random bytes are drawn from the system a few kilobytes at a time: one call per id was a measurable share of the schedule endpoint. */
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let poolOffset = 0;

function nextRandomByte(): number {
  if (poolOffset === POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

/** Random base36 text; 22 characters carry about 113 bits. */
export function randomToken(length = 22): string {
  let out = '';
  while (out.length < length) {
    const byte = nextRandomByte();
    // 252 = 7 * 36: rejecting the top values keeps every character equally likely.
    if (byte < 252) out += ALPHABET[byte % 36];
  }
  return out;
}

export type IdPrefix = 'usr' | 'key' | 'evt' | 'bot' | 'sch' | 'cal' | 'msg';

/** Ids carry their type: that is how a path taking "a bot or an event id" tells them apart. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomToken()}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return id.startsWith(`${prefix}_`);
}
