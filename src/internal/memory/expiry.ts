import type { SchedulerLike } from 'rxjs';
import { NumHeap } from './heap.js';
import type { Ring } from './ring.js';
import { Deadline } from '../timer.js';

/**
 * A topic's TTL index: a min-heap of (expiry time, offset) for every retained message with a
 * TTL, and one re-armable timer for the earliest. Expired messages become tombstones in the
 * ring; stale heap entries (evicted, or a slot reused) are skipped by checking the slot's expiry.
 */
export class Expiry<T> {
  private readonly heap = new NumHeap();
  private readonly timer: Deadline;

  constructor(
    private readonly scheduler: SchedulerLike,
    onTimer: () => void,
  ) {
    this.timer = new Deadline(scheduler, onTimer);
  }

  /** True while some retained message has a TTL. */
  get active(): boolean {
    return this.heap.size !== 0;
  }

  /** Indexes the message at `offset`, expiring at `at`. */
  add(at: number, offset: number): void {
    this.heap.push(at, offset);
    this.timer.arm(at);
  }

  /** True when some message's time has come (cheap when none has a TTL). */
  due(): boolean {
    return this.heap.size !== 0 && this.heap.peekKey() <= this.scheduler.now();
  }

  /** How many of the messages the last `expire` removed were below its `committed` (no group needed them). */
  agedOut = 0;

  /**
   * Tombstones every message due by `now`; returns how many expired, and counts in `agedOut`
   * those below `committed` (the lowest committed offset of every group).
   */
  expire(ring: Ring<T>, now: number, committed: number): number {
    const heap = this.heap;
    let n = 0;
    let aged = 0;
    while (heap.size > 0 && heap.peekKey() <= now) {
      const at = heap.peekKey();
      const off = heap.pop();
      if (ring.isLive(off) && ring.expires[off & ring.mask] === at) {
        ring.tomb(off);
        n++;
        if (off < committed) aged++;
      }
    }
    this.agedOut = aged;
    if (heap.size > 0) this.timer.arm(heap.peekKey());
    return n;
  }

  cancel(): void {
    this.timer.cancel();
  }
}
