import type { Subscription } from 'rxjs';
import type { DeliveryImpl } from './delivery.js';
import { type DeadLetterReason, DEAD, type GroupMember, INFLIGHT, SETTLED, WAITING } from './group-types.js';
import { GroupWindow, type GroupHost } from './group-window.js';
import { Deadline, scheduleUnref, unwatch, type Waitable, type WaitedTimer, watch } from '../../timer.js';

/**
 * The settling half of a consumer group, over its state ({@link GroupWindow}): ack, nack, term,
 * in-progress, redelivery (at once or delayed), dead letters, ack-timeout sweeps, the optional
 * FinalizationRegistry, and returning what a member holds. {@link Group} adds handing out.
 */
export abstract class GroupSettle<T> extends GroupWindow<T> implements Waitable {
  protected epoch = 0;
  protected sweeper: Subscription | null = null;
  /** When the pending sweep runs (scheduler time). */
  private sweepAt = 0;
  private readonly delayTimer: Deadline;
  private registry: FinalizationRegistry<number> | undefined = undefined;

  /** Settles a `deliverRaw` hand-off: ack, or return it (the sink closed meanwhile). Does not wake the owner. */
  settleRaw(off: number, gen: number, ok: boolean): void {
    const i = off & this.mask;
    if (off < this.committed || this.tag[i] !== off || this.state[i] !== INFLIGHT || this.gens[i] !== gen) return;
    const owner = this.owner[i];
    this.owner[i] = null;
    this.inflight--;
    if (owner !== null) owner.held--;
    if (ok) {
      this.acked++;
      this.pending--;
      this.state[i] = SETTLED;
      this.afterSettle(off);
    } else {
      this.nacked++;
      this.giveBack(off, 0);
    }
  }

  private untrack(d: DeliveryImpl<T> | undefined): void {
    // only groups where some member asked for returnOnGc have a registry (unregistering the rest is a no-op)
    if (d !== undefined && this.registry !== undefined) this.registry.unregister(d);
  }


  /**
   * Acks `off` if `gen` still holds it, for every delivery but the lone run's first (which
   * `DeliveryImpl.ack` settles in {@link ackSolo}). @internal
   */
  ackSlot(off: number, gen: number, d: DeliveryImpl<T> | undefined): boolean {
    if (this.inRun(off)) this.solidify(); // settled out of order: the run goes to slot state
    if (!this.holds(off, gen)) return false;
    const i = off & this.mask;
    const owner = this.owner[i];
    this.release(i);
    this.untrack(d);
    this.acked++;
    this.pending--;
    this.state[i] = SETTLED; // holds() saw the slot tagged with `off`: no need for set()
    this.afterSettle(off);
    owner?.onSettled();
    return true;
  }

  /**
   * Acks the first delivery of the lone run: `committed` is on it (only a commit, seek or clamp moves
   * it, and those settle or write out the run first), so the committed offset moves one on, and past whatever
   * was settled after the run once it is empty. The caller checked `gen`. @internal
   */
  ackSolo(off: number): boolean {
    const owner = this.soloOwner as GroupMember<T>;
    const next = off + 1;
    owner.held--; // the group's counters: the run counts itself (see GroupWindow.solo)
    this.committed = next;
    if (next !== this.soloEnd) this.solo = next;
    else {
      // acked to its end: the run is empty, and `soloEnd`/`soloOwner` stay, so the owner's next take
      // (at `soloEnd`, if the cursor is still there) starts it again without a claim (see GroupWindow.solo)
      this.solo = -1;
      if (this.next > next) this.passSettled();
    }
    this.host.released(this.committed); // passSettled may have moved it past `next`
    if (this.host.closed) this.checkDrained();
    owner.onSettled();
    return true;
  }

  nack(off: number, gen: number, delayMs: number, d?: DeliveryImpl<T>): boolean {
    if (this.inRun(off)) this.solidify();
    if (!this.holds(off, gen)) return false;
    const i = off & this.mask;
    const owner = this.owner[i];
    this.release(i);
    this.untrack(d);
    this.nacked++;
    this.giveBack(off, delayMs, d);
    owner?.onSettled();
    return true;
  }

  term(off: number, gen: number, reason: string | undefined, d?: DeliveryImpl<T>): boolean {
    if (this.inRun(off)) this.solidify();
    if (!this.holds(off, gen)) return false;
    const i = off & this.mask;
    const owner = this.owner[i];
    this.release(i);
    this.untrack(d);
    this.pending--;
    this.deadLetterAt(off, 'terminated', reason, d);
    owner?.onSettled();
    return true;
  }

  touch(off: number, gen: number): boolean {
    if (this.inRun(off)) this.solidify();
    if (!this.holds(off, gen)) return false;
    this.epochs[off & this.mask] = this.epoch;
    return true;
  }

  /** Marks `off` settled (not pending any more) and moves the committed offset. */
  protected settleAt(off: number): void {
    this.set(off, SETTLED);
    this.afterSettle(off);
  }

  /** `off` was just marked SETTLED: journal it and move the committed offset. */
  private afterSettle(off: number): void {
    if (this.store !== undefined) this.store.group({ kind: 'settle', group: this.name, offset: off });
    if (this.ko !== null) this.keyReleased(off);
    if (off !== this.committed) {
      if (this.host.closed) this.checkDrained();
    } else if (off + 1 === this.next) {
      this.committed = off + 1; // the common case: settling the only outstanding message
      this.host.released(this.committed);
      if (this.host.closed) this.checkDrained();
    } else this.advanceCommitted();
  }

  /** An INFLIGHT offset (owner already released) comes back: redelivery, delay, or dead letter. */
  protected giveBack(off: number, delayMs: number, d?: DeliveryImpl<T>): void {
    const i = off & this.mask;
    this.returns++;
    if (this.count[i] >= this.host.maxDeliveries) {
      this.pending--;
      this.deadLetterAt(off, 'max-deliveries', undefined, d);
      return;
    }
    this.state[i] = WAITING;
    if (delayMs > 0) {
      const at = this.host.scheduler.now() + delayMs;
      this.delayed.push(at, off);
      this.delayTimer.arm(at);
      watch(this, this.delayTimer.timer as Subscription);
    } else {
      this.redeliver.push(off, off);
      this.wake();
    }
  }

  /** Publishes `off` to the dead-letter route, then settles it. `pending` was already taken off. */
  protected deadLetterAt(off: number, reason: DeadLetterReason, detail: string | undefined, d?: DeliveryImpl<T>): void {
    const ring = this.host.ring;
    const live = ring.isLive(off);
    if (!live && d === undefined) {
      this.expired++; // expired meanwhile: nothing to dead-letter
      this.settleAt(off);
      return;
    }
    const r = off & ring.mask;
    const value = live ? (ring.values[r] as T) : (d as DeliveryImpl<T>).value;
    const key = live ? ring.keys[r] : d?.key;
    const headers = live ? ring.headers[r] : (d as DeliveryImpl<T>).headers;
    const i = this.set(off, DEAD);
    this.pending++;
    this.deadLettered++;
    if (this.ko !== null) this.keyReleased(off); // a dead-lettered message releases its key
    const done = this.host.deadLetter(this.name, off, reason, detail, this.count[i], value, key, headers);
    if (done === true) this.finishDead(off);
    else done.then(() => this.finishDead(off), () => this.finishDead(off));
  }

  private finishDead(off: number): void {
    if (off < this.committed || this.st(off) !== DEAD) return;
    this.pending--;
    this.settleAt(off);
  }

  protected startSweeper(): void {
    const period = this.host.ackTimeoutMs / 4;
    this.sweepAt = this.host.scheduler.now() + period;
    this.sweeper = scheduleUnref(this.host.scheduler, period, () => this.sweep());
    watch(this, this.sweeper);
  }

  /** Ack timeouts: every delivery held for more than `ackTimeoutMs` (at most 1.25 ×) goes back. */
  private sweep(): void {
    this.sweeper = null;
    this.solidify();
    const limit = ++this.epoch - 5;
    for (let off = this.committed; off < this.next && this.inflight > 0; off++) {
      const i = off & this.mask;
      if (this.tag[i] === off && this.state[i] === INFLIGHT && this.epochs[i] <= limit) this.returnHeld(off);
    }
    if (this.inflight > 0 && this.sweeper === null) this.startSweeper();
    this.unwatchIdle();
  }

  /** Delayed nacks whose delay is over become ready. */
  private onDelayed(): void {
    const now = this.host.scheduler.now();
    let any = false;
    while (this.delayed.size > 0 && this.delayed.peekKey() <= now) {
      const off = this.delayed.pop();
      if (off >= this.committed && this.st(off) === WAITING) {
        this.redeliver.push(off, off);
        any = true;
      }
    }
    if (this.delayed.size > 0) this.delayTimer.arm(this.delayed.peekKey());
    this.unwatchIdle();
    if (any) this.wake();
  }

  /** No timer of this group is pending: nothing to ask it about at exit. */
  private unwatchIdle(): void {
    if (this.sweeper === null && this.delayTimer.timer === null) unwatch(this);
  }

  /**
   * Its redelivery timer due first, while a member waits (see timer.ts): a sweep while deliveries
   * are out (an ack timeout may return one), the delay timer while a nacked message waits out its
   * delay. Asked only when the process is about to exit.
   */
  waited(): WaitedTimer | undefined {
    if (!this.members.some((m) => m.waited)) return undefined;
    const now = this.host.scheduler.now();
    let first: WaitedTimer | undefined;
    if (this.sweeper !== null && (this.inflight > 0 || this.solo !== -1)) first = { inMs: this.sweepAt - now, timer: this.sweeper };
    const delay = this.delayTimer.timer;
    const inMs = this.delayTimer.due - now;
    if (delay !== null && this.delayed.size > 0 && (first === undefined || inMs < first.inMs)) first = { inMs, timer: delay };
    return first;
  }

  /** A tracked delivery was garbage-collected unsettled. */
  private onLost(gen: number): void {
    this.solidify();
    for (let off = this.committed; off < this.next; off++) {
      const i = off & this.mask;
      if (this.tag[i] === off && this.state[i] === INFLIGHT && this.gens[i] === gen) {
        this.returnHeld(off);
        return;
      }
    }
  }

  private returnHeld(off: number): void {
    const i = off & this.mask;
    const owner = this.owner[i];
    this.release(i);
    this.giveBack(off, 0);
    owner?.onSettled();
  }

  /** A member leaves: every delivery it holds returns to the group. */
  returnAll(consumer: GroupMember<T>): void {
    this.solidify();
    for (let off = this.committed; off < this.next && consumer.held > 0; off++) {
      const i = off & this.mask;
      if (this.tag[i] === off && this.state[i] === INFLIGHT && this.owner[i] === consumer) {
        this.release(i);
        this.giveBack(off, 0);
      }
    }
    consumer.held = 0;
  }

  /**
   * Stops the ack-timeout sweep when nothing is held, and the delay timer when nothing is
   * delayed: a pending timer keeps the group, its topic and its ring reachable. Called off the
   * per-message path (the topic closing, the group drained after it closed, a member leaving);
   * otherwise a sweep that finds nothing held stops by itself. The next claim starts the sweep again.
   */
  idle(): void {
    if (this.sweeper !== null && this.inflight === 0 && this.solo === -1) {
      this.solidify(); // an emptied run ends: its next take must be a claim that starts the sweep
      this.sweeper.unsubscribe();
      this.sweeper = null;
    }
    if (this.delayed.size === 0) this.delayTimer.cancel();
    this.unwatchIdle();
  }

  /**
   * A push face's member leaves, but what it handed downstream stays held: each such delivery
   * keeps its slot with no owner, settleable until its ack timeout returns it (or a seek, commit
   * or clamp passes it). `unseen` (an offset, or -1) was taken but never handed downstream: it
   * returns at once.
   */
  disown(consumer: GroupMember<T>, unseen: number): void {
    this.solidify();
    for (let off = this.committed; off < this.next && consumer.held > 0; off++) {
      const i = off & this.mask;
      if (this.tag[i] === off && this.state[i] === INFLIGHT && this.owner[i] === consumer) {
        if (off === unseen) {
          this.release(i);
          this.giveBack(off, 0);
        } else {
          this.owner[i] = null;
          consumer.held--;
        }
      }
    }
    consumer.held = 0;
  }

  /** Stops timers (topic deleted or group removed). */
  dispose(): void {
    this.sweeper?.unsubscribe();
    this.sweeper = null;
    this.delayTimer.cancel();
    unwatch(this);
  }

  constructor(host: GroupHost<T>, name: string, durable: boolean, start: number) {
    super(host, name, durable, start);
    this.delayTimer = new Deadline(host.scheduler, () => this.onDelayed());
  }

  /** Registers a delivery with the FinalizationRegistry (`returnOnGc`). */
  protected track(d: DeliveryImpl<T>, gen: number): void {
    this.registry ??= new FinalizationRegistry((g) => this.onLost(g));
    this.registry.register(d, gen, d);
  }
}
