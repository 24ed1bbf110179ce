// The rows one dispatcher works on, from its claim to its written result: pure bookkeeping, no
// I/O. The database decides who launches a row (a launch needs the conditional change of a row
// still 'claimed' by this dispatcher to 'launching', which happens once); this decides what the
// dispatcher keeps in memory while it waits for the database's answers, so that no row of its own
// is left unfired until its lease runs out, and none is sent twice.
//
// A row is, here:
//   - held: on the timer, waiting for its due time (a claim, or one put back after a failure);
//   - deciding: taken off the timer, its batch being confirmed or decided;
//   - sending: its launch decided (queued, on the wire, or its result not written yet).
// The same row can be held and deciding or sending at once: a row moved while its batch was
// being decided is claimed again, and that newer claim is what the dispatcher fires next.
import { MinHeap } from './min-heap.ts';
import { leasesToRenew } from './lease-renewal.ts';
import type { Claimed } from './launch-preparation.ts';

export class WorkingSet {
  /** Held rows by schedule id: the latest entry of each. */
  readonly #held = new Map<string, Claimed>();
  /** Held entries by due time; an entry replaced since is skipped when it surfaces. */
  readonly #dueOrder = new MinHeap<Claimed>((a, b) => a.dueAtMs < b.dueAtMs);
  readonly #sending = new Set<string>();
  /** Every row worked on, with the end of the last lease this dispatcher wrote for it. */
  readonly #leaseEnds = new Map<string, number>();

  get size(): number {
    return this.#leaseEnds.size;
  }

  /**
   * Whether a row the claim statement returned is to be held. A row claimed afresh ('claimed') is:
   * launching it still needs the change from 'claimed', which happens once. A row returned
   * 'launching' (its lease ran out) is a takeover, relaunched without that check; one of this
   * dispatcher's own that is being decided or sent is not taken over, which would send it twice.
   */
  accepts(row: { id: string; state: string }): boolean {
    return row.state !== 'launching' || !this.#leaseEnds.has(row.id) || this.#held.has(row.id);
  }

  /** Puts a row on the timer, replacing any earlier entry; `leaseUntilMs` when it was just claimed. */
  hold(entry: Claimed, leaseUntilMs?: number): void {
    this.#held.set(entry.scheduleId, entry);
    this.#leaseEnds.set(entry.scheduleId, leaseUntilMs ?? this.#leaseEnds.get(entry.scheduleId) ?? 0);
    this.#dueOrder.push(entry);
  }

  /**
   * Puts rows whose decision failed back on the timer at `dueAtMs`. The decision may have been
   * committed before the failure (a lost answer, a later statement failing), so each may already
   * be 'launching' under this dispatcher: it is then taken over (mayTakeOver). A newer claim of
   * the same row, made meanwhile, is kept rather than the entry that failed.
   */
  holdAfterFailure(entries: readonly Claimed[], dueAtMs?: number): void {
    for (const entry of entries) {
      const latest = this.#held.get(entry.scheduleId) ?? entry;
      this.hold({ ...latest, mayBeLaunching: true, dueAtMs: dueAtMs ?? latest.dueAtMs });
    }
  }

  /** Puts a row back on the timer at `dueAtMs`, unless it was claimed anew meanwhile. */
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
   * the same row meanwhile is stale (the decision read the row as it is now) and is dropped.
   */
  sending(ids: Iterable<string>, leaseUntilMs: number): void {
    for (const id of ids) {
      this.#sending.add(id);
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

  /** A launch's result is written. */
  resultWritten(id: string): void {
    this.#sending.delete(id);
    this.settled(id);
  }

  /** Forgets every held row (stopping: their claims are handed back). */
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
