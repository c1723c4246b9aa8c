import type { Subscription } from 'rxjs';
import type { Delivery } from '../../../types.js';
import { Deadline, scheduleUnref, unwatch, type Waitable, type WaitedTimer, watch } from '../../timer.js';
import { INFLIGHT, type Waker, WAITING } from './group-types.js';
import type { Settle, SettleTimers } from './settle.js';
import type { GroupState } from './state.js';

/**
 * A consumer group's redelivery timers: the ack-timeout sweep, the delay timer of nacks with a
 * delay, and the optional FinalizationRegistry of `returnOnGc`. What they find goes back through
 * {@link Settle} (given after construction: settling arms these timers, and these return through
 * settling); what becomes ready wakes members through the `waker`.
 */
export class Timers<T> implements SettleTimers, Waitable {
  private readonly group: GroupState<T>;
  private readonly waker: Waker;
  private settle: Settle<T> | null = null;
  /** When the pending sweep runs (scheduler time). */
  private sweepAt = 0;
  private readonly delayTimer: Deadline;
  private registry: FinalizationRegistry<number> | undefined = undefined;

  constructor(group: GroupState<T>, waker: Waker) {
    this.group = group;
    this.waker = waker;
    this.delayTimer = new Deadline(group.host.scheduler, () => this.onDelayed());
  }

  /** The settling part returned deliveries go through. */
  returnThrough(settle: Settle<T>): void {
    this.settle = settle;
  }

  /** Registers a delivery with the FinalizationRegistry (`returnOnGc`). */
  track(d: Delivery<T>, gen: number): void {
    this.registry ??= new FinalizationRegistry((gen) => this.onLost(gen));
    this.registry.register(d, gen, d);
  }

  untrack(d: Delivery<unknown> | undefined): void {
    // only groups where some member asked for returnOnGc have a registry (unregistering the rest is a no-op)
    if (d !== undefined && this.registry !== undefined) this.registry.unregister(d);
  }

  /** Starts the ack-timeout sweep: every `ackTimeoutMs / 4` while deliveries are held. */
  startSweeper(): void {
    const g = this.group;
    const period = g.host.ackTimeoutMs / 4;
    this.sweepAt = g.host.scheduler.now() + period;
    g.sweeper = scheduleUnref(g.host.scheduler, period, () => this.sweep());
    watch(this, g.sweeper);
  }

  /** Ack timeouts: every delivery held for more than `ackTimeoutMs` (at most 1.25 ×) goes back. */
  private sweep(): void {
    const g = this.group;
    g.sweeper = null;
    g.solidify();
    const limit = ++g.epoch - 5;
    for (let off = g.committed; off < g.next && g.inflight > 0; off++) {
      const i = off & g.mask;
      if (g.tag[i] === off && g.state[i] === INFLIGHT && g.epochs[i] <= limit) (this.settle as Settle<T>).returnHeld(off);
    }
    if (g.inflight > 0 && g.sweeper === null) this.startSweeper();
    this.unwatchIdle();
  }

  delay(off: number, at: number): void {
    this.group.delayed.push(at, off);
    this.delayTimer.arm(at);
    watch(this, this.delayTimer.timer as Subscription);
  }

  /** Delayed nacks whose delay is over become ready. */
  private onDelayed(): void {
    const g = this.group;
    const now = g.host.scheduler.now();
    let any = false;
    while (g.delayed.size > 0 && g.delayed.peekKey() <= now) {
      const off = g.delayed.pop();
      if (off >= g.committed && g.st(off) === WAITING) {
        g.redeliver.push(off, off);
        any = true;
      }
    }
    if (g.delayed.size > 0) this.delayTimer.arm(g.delayed.peekKey());
    this.unwatchIdle();
    if (any) this.waker.wake();
  }

  /** No timer of this group is pending: nothing to ask it about at exit. */
  private unwatchIdle(): void {
    if (this.group.sweeper === null && this.delayTimer.timer === null) unwatch(this);
  }

  /**
   * Its redelivery timer due first, while a member waits (see timer.ts): a sweep while deliveries
   * are out (an ack timeout may return one), the delay timer while a nacked message waits out its
   * delay. Asked only when the process is about to exit.
   */
  waited(): WaitedTimer | undefined {
    const g = this.group;
    if (!g.members.some((m) => m.waited)) return undefined;
    const now = g.host.scheduler.now();
    let first: WaitedTimer | undefined;
    if (g.sweeper !== null && (g.inflight > 0 || g.runStart !== -1)) first = { inMs: this.sweepAt - now, timer: g.sweeper };
    const delay = this.delayTimer.timer;
    const inMs = this.delayTimer.due - now;
    if (delay !== null && g.delayed.size > 0 && (first === undefined || inMs < first.inMs)) first = { inMs, timer: delay };
    return first;
  }

  /** A tracked delivery was garbage-collected unsettled. */
  private onLost(gen: number): void {
    const g = this.group;
    g.solidify();
    for (let off = g.committed; off < g.next; off++) {
      const i = off & g.mask;
      if (g.tag[i] === off && g.state[i] === INFLIGHT && g.gens[i] === gen) {
        (this.settle as Settle<T>).returnHeld(off);
        return;
      }
    }
  }

  /**
   * Stops the ack-timeout sweep when nothing is held, and the delay timer when nothing is
   * delayed: a pending timer keeps the group, its topic and its ring reachable. Called off the
   * per-message path (the topic closing, the group drained after it closed, a member leaving);
   * otherwise a sweep that finds nothing held stops by itself. The next claim starts the sweep again.
   */
  idle(): void {
    const g = this.group;
    if (g.sweeper !== null && g.inflight === 0 && g.runStart === -1) {
      g.solidify(); // an emptied run ends: its next take must be a claim that starts the sweep
      g.sweeper.unsubscribe();
      g.sweeper = null;
    }
    if (g.delayed.size === 0) this.delayTimer.cancel();
    this.unwatchIdle();
  }

  /** Stops timers (topic deleted or group removed). */
  dispose(): void {
    const g = this.group;
    g.sweeper?.unsubscribe();
    g.sweeper = null;
    this.delayTimer.cancel();
    unwatch(this);
  }
}
