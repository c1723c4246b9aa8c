import type { SchedulerLike, Subscription } from 'rxjs';
import { NumHeap } from './heap.js';
import { Deadline, unwatch, type Waitable, type WaitedTimer, watch } from '../timer.js';

/** What a topic's delay index needs from its topic. */
export interface DelayHost {
  /** The delayed message at `offset` came due: every group that passed it may hand it out now. */
  cameDue(offset: number): void;
  /** The timer ran: the due messages were released; wake the groups. */
  onDelayTimer(): void;
  /** True while a member of some group of the topic waits for a message. */
  someoneWaits(): boolean;
}

/**
 * A topic's delayed messages (`delayMs`, `deliverAt`): the offsets not yet due with their due
 * times, a min-heap of (due time, offset), and one re-armable timer for the earliest, however
 * many messages wait. The timer is un-ref'd; it holds the process only while a member of the
 * topic waits (see timer.ts), asked when the process is about to exit.
 */
export class Delays implements Waitable {
  private readonly heap = new NumHeap();
  /** Offset → due time, for every message not yet due. */
  private dueAt = new Map<number, number>();
  private readonly timer: Deadline;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly host: DelayHost,
  ) {
    this.timer = new Deadline(scheduler, () => host.onDelayTimer());
  }

  /** Messages not yet due. */
  get size(): number {
    return this.dueAt.size;
  }

  /** When the next message comes due (scheduler time), `Infinity` when none waits. */
  get nextDue(): number {
    return this.heap.peekKey();
  }

  /** The message at `offset` goes to no group before `at`. */
  add(offset: number, at: number): void {
    this.dueAt.set(offset, at);
    this.heap.push(at, offset);
    const before = this.timer.timer;
    this.timer.arm(at);
    if (this.timer.timer !== before) watch(this, this.timer.timer as Subscription);
  }

  /** True while the message at `offset` is delayed and not yet due. */
  holds(offset: number): boolean {
    return this.dueAt.has(offset);
  }

  /** True when some message's time has come. */
  due(): boolean {
    return this.heap.peekKey() <= this.scheduler.now();
  }

  /** Releases every message due by now (in due order, ties in offset order), telling the host about each. */
  release(): void {
    const heap = this.heap;
    const now = this.scheduler.now();
    while (heap.size > 0 && heap.peekKey() <= now) {
      const off = heap.pop();
      if (this.dueAt.delete(off)) this.host.cameDue(off);
    }
    if (heap.size > 0) this.timer.arm(heap.peekKey());
    else {
      heap.clear(); // gives back the arrays a large schedule grew
      if (this.dueAt.size === 0) this.dueAt = new Map(); // a Map keeps its grown table when emptied
      this.timer.cancel();
      unwatch(this);
    }
  }

  /** Forgets every delayed message (the topic was destroyed). */
  cancel(): void {
    this.timer.cancel();
    this.heap.clear();
    this.dueAt.clear();
    unwatch(this);
  }

  /** The timer, while some member of the topic waits (asked when the process is about to exit). */
  waited(): WaitedTimer | undefined {
    const timer = this.timer.timer;
    if (timer === null || !this.host.someoneWaits()) return undefined;
    return { inMs: this.timer.due - this.scheduler.now(), timer };
  }
}
