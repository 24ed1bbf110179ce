// Values that become instants only when a question reaches them: a series' RDATE and EXDATE values
// (up to ~10,000 of them) are local times whose placement in a zone can cost a Temporal calendar
// object each, and a question is about a stretch of time (the next occurrences, one day, one
// original start) that only a few of them fall in.
//
// Each value has a "reach": a number it is known to be placed near. A local time's instant is its
// digits read as UTC minus the zone's offset, and no offset reaches a day (Temporal refuses one of a
// day or more, and so do zones read from an ICS VTIMEZONE), so a local time is its own reach and
// its instant lies less than a day from it. REACH_MS takes two days, the second as a margin. The
// values are kept sorted by reach; the ones whose instant can fall in a stretch are those whose
// reach is within REACH_MS of it, and only those are placed, a few at a time (a block), each once.

const DAY_MS = 86_400_000;
/** How far a value's instant can be from its reach (see above): more than any zone's offset. */
export const REACH_MS = 2 * DAY_MS;
/** Values placed together: `has` then tracks what is placed per block rather than per value. */
const BLOCK_SHIFT = 3;
const BLOCK_SIZE = 1 << BLOCK_SHIFT;

export class LazyInstants<T> {
  readonly #items: T[];
  /** Ascending. */
  readonly #reach: Float64Array;
  /** NaN until placed. */
  readonly #instants: Float64Array;
  readonly #blockPlaced: Uint8Array;
  #blocksLeft: number;
  readonly #placedInstants = new Set<number>();
  readonly #place: (item: T) => number;

  /** `place` gives an item's instant, which must lie within REACH_MS of `reachOf(item)`. */
  constructor(items: readonly T[], reachOf: (item: T) => number, place: (item: T) => number) {
    const n = items.length;
    const reach = new Float64Array(n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      reach[i] = reachOf(items[i]!);
      if (i > 0 && reach[i - 1]! > reach[i]!) sorted = false;
    }
    if (sorted) {
      this.#items = items.slice();
      this.#reach = reach;
    } else {
      // Values mostly come in order (DTSTART first, then a list by date): the array sort finds the
      // runs already in order and merges them.
      const order = new Array<number>(n);
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => reach[a]! - reach[b]!);
      this.#items = new Array<T>(n);
      this.#reach = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        this.#items[i] = items[order[i]!]!;
        this.#reach[i] = reach[order[i]!]!;
      }
    }
    this.#instants = new Float64Array(n).fill(Number.NaN);
    this.#blocksLeft = (items.length + BLOCK_SIZE - 1) >> BLOCK_SHIFT;
    this.#blockPlaced = new Uint8Array(this.#blocksLeft);
    this.#place = place;
  }

  get size(): number {
    return this.#items.length;
  }

  /** True when a value is placed exactly at `ms`. */
  has(ms: number): boolean {
    if (this.#blocksLeft > 0) {
      const first = this.#firstReachAtOrAfter(ms - REACH_MS);
      const end = this.#firstReachAtOrAfter(ms + REACH_MS, first, true);
      if (first < end) for (let block = first >> BLOCK_SHIFT; block <= (end - 1) >> BLOCK_SHIFT; block++) this.#placeBlock(block);
    }
    return this.#placedInstants.has(ms);
  }

  /**
   * The instants in [loMs, hiMs), ascending (equal ones one after the other), placing values only
   * as far as the consumer takes them: an instant is given once no value not yet placed can come
   * before it.
   */
  *ascending(loMs: number, hiMs: number): Generator<number> {
    const reach = this.#reach;
    const n = reach.length;
    let i = this.#firstReachAtOrAfter(loMs - REACH_MS);
    const pending = new MinHeap();
    for (;;) {
      while (i < n && reach[i]! < hiMs + REACH_MS && (pending.size === 0 || reach[i]! - REACH_MS < pending.peek())) {
        const ms = this.#instantAt(i++);
        if (ms >= loMs && ms < hiMs) pending.push(ms);
      }
      if (pending.size === 0) return;
      yield pending.pop();
    }
  }

  /** The latest instant, or undefined when there are no values. */
  last(): number | undefined {
    const n = this.#reach.length;
    if (n === 0) return undefined;
    // The latest is within REACH_MS after the last reach's value, whose reach is then within two.
    let latest = Number.NEGATIVE_INFINITY;
    for (let i = this.#firstReachAtOrAfter(this.#reach[n - 1]! - 2 * REACH_MS); i < n; i++) latest = Math.max(latest, this.#instantAt(i));
    return latest;
  }

  #instantAt(i: number): number {
    this.#placeBlock(i >> BLOCK_SHIFT);
    return this.#instants[i]!;
  }

  #placeBlock(block: number): void {
    if (this.#blockPlaced[block]) return;
    const end = Math.min((block + 1) << BLOCK_SHIFT, this.#items.length);
    for (let i = block << BLOCK_SHIFT; i < end; i++) {
      const ms = this.#place(this.#items[i]!);
      this.#instants[i] = ms;
      this.#placedInstants.add(ms);
    }
    this.#blockPlaced[block] = 1;
    this.#blocksLeft--;
  }

  /** Index of the first reach >= ms (> ms when `after`), searching from `from`. */
  #firstReachAtOrAfter(ms: number, from = 0, after = false): number {
    const reach = this.#reach;
    let lo = from;
    let hi = reach.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (reach[mid]! < ms || (after && reach[mid] === ms)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A binary min-heap of numbers. */
class MinHeap {
  readonly #values: number[] = [];

  get size(): number {
    return this.#values.length;
  }

  peek(): number {
    return this.#values[0]!;
  }

  push(value: number): void {
    const values = this.#values;
    let i = values.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (values[parent]! <= value) break;
      values[i] = values[parent]!;
      i = parent;
    }
    values[i] = value;
  }

  pop(): number {
    const values = this.#values;
    const top = values[0]!;
    const last = values.pop()!;
    if (values.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= values.length) break;
        const right = left + 1;
        const child = right < values.length && values[right]! < values[left]! ? right : left;
        if (values[child]! >= last) break;
        values[i] = values[child]!;
        i = child;
      }
      values[i] = last;
    }
    return top;
  }
}
