// The rows one dispatcher works on, from its claim to its written result: pure bookkeeping, no
// I/O. The database decides who launches a row: a launch needs the conditional change of a row
// 'claimed' by this dispatcher to 'launching' (once per claim), or a takeover of a 'launching'
// row this dispatcher holds, and a result settles only its own attempt. This keeps in memory what
// the dispatcher needs while it waits for the database's answers, so that no row of its own is
// left unfired until its lease runs out, and no row is taken over while it is being sent.
//
// A row is, here:
//   - held: on the timer, waiting for its due time (a claim, or one put back after a failure);
//   - deciding: taken off the timer, its batch being confirmed or decided (no set of its own: a
//     row with a lease end that is neither held nor sending);
//   - sending: a launch decided (queued, on the wire, or its result not written yet).
// A row can be held while it is being decided or sent: claimed again after a move while its batch
// was being decided (that entry is the one fired next), or a claim that was already on its way
// when the row was launched (a stale entry: its decision finds the row launching and drops it).
import { MinHeap } from './min-heap.ts';
import { leasesToRenew } from './lease-renewal.ts';
import type { Claimed } from './launch-preparation.ts';

export class WorkingSet {
  /** Held rows by schedule id: the latest entry of each. */
  readonly #held = new Map<string, Claimed>();
  /** Held entries by due time; an entry replaced since is skipped when it surfaces. */
  readonly #dueOrder = new MinHeap<Claimed>((a, b) => a.dueAtMs < b.dueAtMs);
  /** Launches being sent per row (two when a retry of a row went out before the first's result was written). */
  readonly #sending = new Map<string, number>();
  /**
   * Every row worked on, with the end of its lease as this dispatcher knows it: never later than
   * the database's (a renewal is due before it runs out), possibly earlier.
   */
  readonly #leaseEnds = new Map<string, number>();

  get size(): number {
    return this.#leaseEnds.size;
  }

  /**
   * Whether a row the claim statement returned is to be held. A row claimed afresh ('claimed') is:
   * launching it still needs the change from 'claimed', which that claim allows once. A row
   * returned 'launching' (its lease ran out) is a takeover, relaunched without that check: one of
   * this dispatcher's own that is being decided or sent (and has no entry on the timer) is refused.
   * The last guard against taking over a row being sent is mayTakeOver, at the decision.
   */
  accepts(row: { id: string; state: string }): boolean {
    return row.state !== 'launching' || !this.#leaseEnds.has(row.id) || this.#held.has(row.id);
  }

  /** Puts a row on the timer, replacing any earlier entry; `leaseUntilMs` when it was just claimed. */
  hold(entry: Claimed, leaseUntilMs?: number): void {
    const id = entry.scheduleId;
    this.#held.set(id, entry);
    const known = this.#leaseEnds.get(id);
    // A claim's lease replaces what was known, except for a row being sent, whose lease the
    // launch's decision wrote: the earlier of the two is kept, so a renewal is never late.
    this.#leaseEnds.set(id, leaseUntilMs === undefined ? known ?? 0 : known !== undefined && this.#sending.has(id) ? Math.min(known, leaseUntilMs) : leaseUntilMs);
    this.#dueOrder.push(entry);
  }

  /**
   * Puts rows whose decision failed back on the timer (at `dueAtMs`, else at their due time). The
   * decision may have been committed before the failure (a lost answer), so each may already be
   * 'launching' under this dispatcher; marked mayBeLaunching, the dispatcher's next decision takes
   * it over if so (mayTakeOver says whether it may). A newer entry of the same row, held
   * meanwhile, is kept (and marked) rather than the one that failed; `failures` counts the failed
   * decisions of each.
   */
  holdAfterFailure(entries: readonly Claimed[], dueAtMs?: number): void {
    for (const entry of entries) {
      const latest = this.#held.get(entry.scheduleId) ?? entry;
      this.hold({ ...latest, mayBeLaunching: true, failures: (entry.failures ?? 0) + 1, dueAtMs: dueAtMs ?? latest.dueAtMs });
    }
  }

  /** Puts a row back on the timer at `dueAtMs`, unless an entry for it is held already. */
  holdLater(entry: Claimed, dueAtMs: number): void {
    if (!this.#held.has(entry.scheduleId)) this.hold({ ...entry, dueAtMs });
  }

  /** Takes up to `limit` held rows due at `nowMs`, earliest first; they are then deciding. */
  takeDue(nowMs: number, limit: number): Claimed[] {
    const due: Claimed[] = [];
    for (let top = this.#current(); top && top.dueAtMs <= nowMs && due.length < limit; top = this.#current()) {
      this.#dueOrder.pop();
      this.#held.delete(top.scheduleId);
      due.push(top);
    }
    return due;
  }

  /** When the earliest held row is due. */
  nextDueAt(): number | undefined {
    return this.#current()?.dueAtMs;
  }

  /**
   * Launches decided and about to be sent, with the lease their decision wrote. An entry held for
   * the same row at this moment is stale (the decision read the row as it is now) and is dropped;
   * one held later (a claim that was already on its way) is dropped by its own decision.
   */
  sending(ids: Iterable<string>, leaseUntilMs: number): void {
    for (const id of ids) {
      this.#sending.set(id, (this.#sending.get(id) ?? 0) + 1);
      this.#held.delete(id);
      this.#leaseEnds.set(id, leaseUntilMs);
    }
  }

  isSending(id: string): boolean {
    return this.#sending.has(id);
  }

  /**
   * Whether a row may be relaunched without the 'claimed' check (a takeover, or a row whose
   * decision may have committed): never while this dispatcher is sending it.
   */
  mayTakeOver(entry: Claimed): boolean {
    return (entry.isTakeover || entry.mayBeLaunching === true) && !this.#sending.has(entry.scheduleId);
  }

  /** A row's decision left nothing to send (dropped, skipped, finished). */
  settled(id: string): void {
    if (!this.#held.has(id) && !this.#sending.has(id)) this.#leaseEnds.delete(id);
  }

  /** A launch's result is written (or given up: a later owner sends it again). */
  resultWritten(id: string): void {
    const count = (this.#sending.get(id) ?? 0) - 1;
    if (count > 0) this.#sending.set(id, count);
    else this.#sending.delete(id);
    this.settled(id);
  }

  /**
   * Forgets every held row (stopping: the dispatcher hands back the rows still 'claimed'; one
   * already 'launching', put back after a failure, is taken over by whoever comes next).
   */
  dropHeld(): void {
    for (const id of this.#held.keys()) {
      this.#held.delete(id);
      this.settled(id);
    }
    this.#dueOrder.clear();
  }

  /** The rows whose lease runs out within two heartbeats (lease-renewal.ts). */
  leasesToRenew(nowMs: number, leaseMs: number): string[] {
    return leasesToRenew(this.#leaseEnds, nowMs, leaseMs);
  }

  /** A renewal wrote `leaseUntilMs` for this row. */
  renewed(id: string, leaseUntilMs: number): void {
    if (this.#leaseEnds.has(id)) this.#leaseEnds.set(id, leaseUntilMs);
  }

  /** The earliest entry that is still current, dropping replaced ones on the way. */
  #current(): Claimed | undefined {
    for (let top = this.#dueOrder.peek(); top; top = this.#dueOrder.peek()) {
      if (this.#held.get(top.scheduleId) === top) return top;
      this.#dueOrder.pop();
    }
    return undefined;
  }
}
