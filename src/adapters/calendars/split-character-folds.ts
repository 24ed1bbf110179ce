// Joins the folded lines of an iCalendar feed that a fold split in the middle of a UTF-8
// character, before the feed's bytes are decoded. RFC 5545 3.1 folds lines at 75 octets and asks a
// reader to unfold so that such a character is whole again; many writers fold at a byte count
// without looking at characters (icalendar/icalendar issue 238, ical-generator issue 221,
// golang-ical issue 7), and decoding first would turn each half into U+FFFD in titles and
// descriptions. Only a fold followed by a UTF-8 continuation byte (10xxxxxx) is joined here: no
// line of valid UTF-8 starts with one, so such a fold always split a character. Every other fold is
// left to the parser, which unfolds text. Written here rather than taken from a library: the
// parsers that handle it (ical.js, node-ical) work on decoded text, where the bytes are lost.
import type { ByteFilter } from '../outbound-http.ts';

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/** A ByteFilter for one feed's body (src/adapters/outbound-http.ts reads it through one). */
export class SplitCharacterFolds implements ByteFilter {
  /** The end of the last chunk, where a fold may begin that the next chunk decides. */
  #carry: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer {
    const input = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const decided = undecidedFrom(input);
    this.#carry = Buffer.from(input.subarray(decided));
    return joinSplitFolds(input, decided);
  }

  end(): Buffer {
    const rest = this.#carry;
    this.#carry = Buffer.alloc(0);
    return rest;
  }
}

/**
 * Where the bytes start that cannot be judged yet: a fold is CR? LF, a space or a tab, and the
 * byte after it, so a CR or LF among the last two bytes waits for more.
 */
function undecidedFrom(input: Buffer): number {
  const n = input.length;
  for (let i = Math.max(0, n - 2); i < n; i++) {
    if (input[i] === LF) return i > 0 && input[i - 1] === CR ? i - 1 : i;
    if (input[i] === CR) return i;
  }
  return n;
}

/** `input` up to `end`, without the folds there that are followed by a continuation byte. */
export function joinSplitFolds(input: Buffer, end: number): Buffer {
  const kept: Buffer[] = [];
  let from = 0;
  for (let lf = input.indexOf(LF, 0); lf !== -1 && lf + 2 <= end; lf = input.indexOf(LF, lf + 1)) {
    const space = input[lf + 1];
    if ((space !== SPACE && space !== TAB) || !isContinuationByte(input[lf + 2])) continue;
    const foldStart = lf > 0 && input[lf - 1] === CR ? lf - 1 : lf;
    kept.push(input.subarray(from, foldStart));
    from = lf + 2;
  }
  if (kept.length === 0) return end === input.length ? input : input.subarray(0, end);
  kept.push(input.subarray(from, end));
  return Buffer.concat(kept);
}
