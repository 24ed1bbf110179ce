// A feed's text as the pieces it arrived in, read as one text. A big feed is never joined into one
// string: making a 19 MB string (joining the pieces, or decoding one 19 MB buffer) was a single
// piece of work of 60-180 ms on the event loop (test/integration/hostile-calendar-data.int.test.ts),
// longer than any other step of reading a feed. The parser only ever asks for a character, the
// next line break, or a bounded slice, and each of those touches one piece or a few.
import { createHash } from 'node:crypto';

const BREAK_CHAR = /[\r\n]/g;

export interface LineBreak {
  /** Where the break starts. */
  index: number;
  /** 2 for CRLF (even when CR ends one piece and LF starts the next), else 1. */
  length: number;
}

export class FeedText {
  readonly length: number;
  readonly #pieces: readonly string[];
  /** Offset of each piece's first character in the whole text. */
  readonly #starts: number[];
  /** The piece the last lookup landed in: reading moves forward, so this is nearly always it. */
  #last = 0;

  constructor(pieces: string | readonly string[]) {
    this.#pieces = typeof pieces === 'string' ? [pieces] : pieces.filter((p) => p.length > 0);
    this.#starts = [];
    let at = 0;
    for (const piece of this.#pieces) {
      this.#starts.push(at);
      at += piece.length;
    }
    this.length = at;
  }

  /** The piece holding position `pos` (0 <= pos < length). */
  #pieceAt(pos: number): number {
    const starts = this.#starts;
    let i = this.#last;
    if (pos >= starts[i]! && (i + 1 === starts.length || pos < starts[i + 1]!)) return i;
    if (i + 1 < starts.length && pos >= starts[i + 1]! && (i + 2 === starts.length || pos < starts[i + 2]!)) return (this.#last = i + 1);
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    this.#last = lo;
    return lo;
  }

  /** The UTF-16 code unit at `pos`, NaN outside the text (as String.prototype.charCodeAt). */
  charCodeAt(pos: number): number {
    if (pos < 0 || pos >= this.length) return Number.NaN;
    const i = this.#pieceAt(pos);
    return this.#pieces[i]!.charCodeAt(pos - this.#starts[i]!);
  }

  /** The first CRLF, LF or CR at or after `from`, or null. */
  findLineBreak(from: number): LineBreak | null {
    if (from >= this.length) return null;
    for (let i = this.#pieceAt(from); i < this.#pieces.length; i++) {
      const piece = this.#pieces[i]!;
      BREAK_CHAR.lastIndex = Math.max(0, from - this.#starts[i]!);
      const match = BREAK_CHAR.exec(piece);
      if (!match) continue;
      const index = this.#starts[i]! + match.index;
      const isCrLf = match[0] === '\r' && this.charCodeAt(index + 1) === 0x0a;
      return { index, length: isCrLf ? 2 : 1 };
    }
    return null;
  }

  /** The text in [from, to), as String.prototype.slice with non-negative bounds. */
  slice(from: number, to = this.length): string {
    const end = Math.min(to, this.length);
    if (from >= end) return '';
    const first = this.#pieceAt(from);
    const firstStart = this.#starts[first]!;
    const firstPiece = this.#pieces[first]!;
    if (end <= firstStart + firstPiece.length) return firstPiece.slice(from - firstStart, end - firstStart);
    const parts: string[] = [firstPiece.slice(from - firstStart)];
    for (let i = first + 1; i < this.#pieces.length && this.#starts[i]! < end; i++) {
      parts.push(this.#pieces[i]!.slice(0, end - this.#starts[i]!));
    }
    return parts.join('');
  }

  /** SHA-256 (hex) of the UTF-8 text in [from, to), without building it as one string. */
  sha256(from: number, to: number): string {
    const hash = createHash('sha256');
    const end = Math.min(to, this.length);
    // A surrogate pair split between two pieces is encoded whole: its first half waits for the next.
    let held = '';
    for (let i = from < end ? this.#pieceAt(from) : this.#pieces.length; i < this.#pieces.length && this.#starts[i]! < end; i++) {
      const start = this.#starts[i]!;
      let part = held + this.#pieces[i]!.slice(Math.max(0, from - start), end - start);
      const last = part.charCodeAt(part.length - 1);
      held = last >= 0xd800 && last <= 0xdbff ? part.slice(-1) : '';
      if (held) part = part.slice(0, -1);
      hash.update(part);
    }
    hash.update(held);
    return hash.digest('hex');
  }
}
