import type { Delivery } from '../../../types.js';
import type { KeyOrder } from './key-order.js';
import { DEAD, type DeadLetterReason, FRESH, type GroupMember, INFLIGHT, SETTLED, type Waker, WAITING } from './group-types.js';
import type { GroupState } from './state.js';

/** What settling asks of the group's timers (`Timers`). */
export interface SettleTimers {
  /** Holds the returned `off` until `at` (scheduler time), then queues it for redelivery. */
  delay(off: number, at: number): void;
  /** `d` was settled: the FinalizationRegistry (`returnOnGc`) no longer watches it. */
  untrack(d: Delivery<unknown> | undefined): void;
  /** Stops the timers that have nothing to do. */
  idle(): void;
}

/**
 * Settling a consumer group's deliveries: ack, nack, term, in-progress; returning what a member
 * holds (to redelivery, a delay or a dead letter); dead letters; and moving the committed offset
 * past what is settled. It wakes members through the `waker` it is given (a return makes a
 * message ready), and arms delays through `timers`.
 */
export class Settle<T> {
  readonly group: GroupState<T>;
  private readonly waker: Waker;
  private readonly timers: SettleTimers;

  constructor(group: GroupState<T>, waker: Waker, timers: SettleTimers) {
    this.group = group;
    this.waker = waker;
    this.timers = timers;
  }

  /** Settles a `deliverRaw` hand-off: ack, or return it (the sink closed meanwhile). Does not wake the owner. */
  settleRaw(off: number, gen: number, ok: boolean): void {
    const g = this.group;
    const i = off & g.mask;
    if (off < g.committed || g.tag[i] !== off || g.state[i] !== INFLIGHT || g.gens[i] !== gen) return;
    const owner = g.owner[i];
    g.owner[i] = null;
    g.inflight--;
    if (owner !== null) owner.held--;
    if (ok) {
      g.acked++;
      g.pending--;
      g.state[i] = SETTLED;
      this.afterSettle(off);
    } else {
      g.nacked++;
      this.giveBack(off, 0);
    }
  }

  /**
   * Acks `off` if `gen` still holds it, for every delivery but the lone run's first (which
   * `DeliveryImpl.ack` settles with {@link ackRunHead}).
   */
  ackSlot(off: number, gen: number, d: Delivery<T> | undefined): boolean {
    const g = this.group;
    if (g.inRun(off)) g.solidify(); // settled out of order: the run goes to slot state
    if (!g.holds(off, gen)) return false;
    const i = off & g.mask;
    const owner = g.owner[i];
    g.release(i);
    this.timers.untrack(d);
    g.acked++;
    g.pending--;
    g.state[i] = SETTLED; // holds() saw the slot tagged with `off`: no need for set()
    this.afterSettle(off);
    owner?.onSettled();
    return true;
  }

  nack(off: number, gen: number, delayMs: number, d?: Delivery<T>): boolean {
    const owner = this.releaseHeld(off, gen, d);
    if (owner === false) return false;
    this.group.nacked++;
    this.giveBack(off, delayMs, d);
    owner?.onSettled();
    return true;
  }

  term(off: number, gen: number, reason: string | undefined, d?: Delivery<T>): boolean {
    const owner = this.releaseHeld(off, gen, d);
    if (owner === false) return false;
    this.group.pending--;
    this.deadLetterAt(off, 'terminated', reason, d);
    owner?.onSettled();
    return true;
  }

  /**
   * Frees the slot of `off` when delivery `gen` still holds it (a stale delivery settles
   * nothing: false) and stops its ack timer; returns the member that held it.
   */
  private releaseHeld(off: number, gen: number, d: Delivery<T> | undefined): GroupMember<T> | null | false {
    const g = this.group;
    if (g.inRun(off)) g.solidify();
    if (!g.holds(off, gen)) return false;
    const i = off & g.mask;
    const owner = g.owner[i];
    g.release(i);
    this.timers.untrack(d);
    return owner;
  }

  touch(off: number, gen: number): boolean {
    const g = this.group;
    if (g.inRun(off)) g.solidify();
    if (!g.holds(off, gen)) return false;
    g.epochs[off & g.mask] = g.epoch;
    return true;
  }

  /** Marks `off` settled (not pending any more) and moves the committed offset. */
  settleAt(off: number): void {
    this.group.set(off, SETTLED);
    this.afterSettle(off);
  }

  /** `off` was just marked SETTLED: journal it and move the committed offset. */
  private afterSettle(off: number): void {
    const g = this.group;
    g.journal.settle(off);
    if (g.ko !== null) this.keyReleased(off);
    if (off !== g.committed) {
      if (g.host.closed) this.checkDrained();
    } else if (off + 1 === g.next) {
      g.committed = off + 1; // the common case: settling the only outstanding message
      g.host.released(g.committed);
      if (g.host.closed) this.checkDrained();
    } else this.advanceCommitted();
  }

  /** Moves the committed offset past what is settled, and tells the topic. */
  advanceCommitted(): void {
    const g = this.group;
    const before = g.committed;
    g.passSettled();
    if (g.committed !== before) g.host.released(g.committed);
    if (g.host.closed) this.checkDrained();
  }

  /** Called on a settle once the topic is closed: a drained group stops its timers, and its members learn it. */
  checkDrained(): void {
    if (!this.group.drained) return;
    this.timers.idle();
    this.waker.wake();
  }

  /** An INFLIGHT offset (owner already released) comes back: redelivery, delay, or dead letter. */
  giveBack(off: number, delayMs: number, d?: Delivery<T>): void {
    const g = this.group;
    const i = off & g.mask;
    g.returns++;
    if (g.count[i] >= g.host.maxDeliveries) {
      g.pending--;
      this.deadLetterAt(off, 'max-deliveries', undefined, d);
      return;
    }
    g.state[i] = WAITING;
    if (delayMs > 0) this.timers.delay(off, g.host.scheduler.now() + delayMs);
    else {
      g.redeliver.push(off, off);
      this.waker.wake();
    }
  }

  /** The INFLIGHT `off` goes back to the group (an ack timeout, a lost delivery); its owner learns it. */
  returnHeld(off: number): void {
    const g = this.group;
    const i = off & g.mask;
    const owner = g.owner[i];
    g.release(i);
    this.giveBack(off, 0);
    owner?.onSettled();
  }

  /** A member leaves: every delivery it holds returns to the group. */
  returnAll(member: GroupMember<T>): void {
    const g = this.group;
    g.solidify();
    for (let off = g.committed; off < g.next && member.held > 0; off++) {
      const i = off & g.mask;
      if (g.tag[i] === off && g.state[i] === INFLIGHT && g.owner[i] === member) {
        g.release(i);
        this.giveBack(off, 0);
      }
    }
    member.held = 0;
  }

  /**
   * A push face's member leaves, but what it handed downstream stays held: each such delivery
   * keeps its slot with no owner, settleable until its ack timeout returns it (or a seek, commit
   * or clamp passes it). `unseen` (an offset, or -1) was taken but never handed downstream: it
   * returns at once.
   */
  disown(member: GroupMember<T>, unseen: number): void {
    const g = this.group;
    g.solidify();
    for (let off = g.committed; off < g.next && member.held > 0; off++) {
      const i = off & g.mask;
      if (g.tag[i] === off && g.state[i] === INFLIGHT && g.owner[i] === member) {
        if (off === unseen) {
          g.release(i);
          this.giveBack(off, 0);
        } else {
          g.owner[i] = null;
          member.held--;
        }
      }
    }
    member.held = 0;
  }

  /** Publishes `off` to the dead-letter route, then settles it. `pending` was already taken off. */
  deadLetterAt(off: number, reason: DeadLetterReason, detail: string | undefined, d?: Delivery<T>): void {
    const g = this.group;
    const ring = g.host.ring;
    const live = ring.isLive(off);
    if (!live && d === undefined) {
      g.expired++; // expired meanwhile: nothing to dead-letter
      this.settleAt(off);
      return;
    }
    const r = off & ring.mask;
    const value = live ? (ring.values[r] as T) : (d as Delivery<T>).value;
    const key = live ? ring.keys[r] : d?.key;
    const headers = live ? ring.headers[r] : (d as Delivery<T>).headers;
    const i = g.set(off, DEAD);
    g.pending++;
    g.deadLettered++;
    if (g.ko !== null) this.keyReleased(off); // a dead-lettered message releases its key
    const done = g.host.deadLetter(g.name, off, reason, detail, g.count[i], value, key, headers);
    if (done === true) this.finishDead(off);
    else done.then(() => this.finishDead(off), () => this.finishDead(off));
  }

  private finishDead(off: number): void {
    const g = this.group;
    if (off < g.committed || g.st(off) !== DEAD) return;
    g.pending--;
    this.settleAt(off);
  }

  /**
   * `ordering: 'key'`: true when `off` may go out now (no key, its key free, or already held by
   * it). Otherwise it waits (WAITING) for the message of its key in flight; the caller leaves it.
   */
  keyFree(off: number): boolean {
    const ring = this.group.host.ring;
    const ko = this.group.ko as KeyOrder;
    const key = ring.keys[off & ring.mask];
    if (key === undefined || ko.claim(key, off)) return true;
    ko.wait(key, off);
    return false;
  }

  private readonly stillWaiting = (off: number): boolean => off >= this.group.committed && this.group.st(off) === WAITING;

  /** `ordering: 'key'`: `off` no longer holds its key (settled, dead-lettered): the next waiting message of the key goes out. */
  keyReleased(off: number): void {
    const next = (this.group.ko as KeyOrder).release(off, this.stillWaiting);
    if (next >= 0) {
      this.group.requeue(next);
      this.waker.wake();
    }
  }

  /** `ordering: 'key'`: after a commit, clamp or drop, every key held by an offset that was settled is released. */
  keysPassed(): void {
    const g = this.group;
    for (const off of (g.ko as KeyOrder).held()) {
      const s = g.st(off);
      if (off < g.committed || s === SETTLED || s === FRESH || s === DEAD) this.keyReleased(off);
    }
  }
}

/**
 * Acks the first delivery of the lone run: `committed` is on it (only a commit, seek or clamp
 * moves it, and those settle or write out the run first), so the committed offset moves one on,
 * and past whatever was settled after the run once it is empty. The caller checked `gen`, and
 * finishes the settle: the drained check of a closed topic, then the owner's `onSettled` (see
 * `DeliveryImpl.ack`). A function of the group, not a method of `Settle`: `DeliveryImpl.ack`
 * calls it with the group it holds, the common settle of every pull face.
 */
export function ackRunHead<T>(g: GroupState<T>, off: number): void {
  const owner = g.runOwner as GroupMember<T>;
  const next = off + 1;
  owner.held--; // the group's counters: the run counts itself (see GroupState.runStart)
  g.committed = next;
  if (next !== g.runEnd) g.runStart = next;
  else {
    // acked to its end: the run is empty, and `runEnd`/`runOwner` stay, so the owner's next
    // take (at `runEnd`, if the cursor is still there) starts it again without a claim
    g.runStart = -1;
    if (g.next > next) g.passSettled();
  }
  g.host.released(g.committed); // passSettled may have moved it past `next`
}
