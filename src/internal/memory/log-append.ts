import { pushLeveled } from './hot/publish.js';
import { EMPTY_HEADERS } from './ring.js';
import { LogRetention } from './log-retention.js';
import type { PublishSettings } from '../topic-options.js';

/**
 * Appending to a topic's log: one message (the general path; the lean one is hot/append-lean.ts),
 * runs of a batch, and the wake of the groups for what was appended.
 */
export abstract class LogAppend<T> extends LogRetention<T> {
  /** Appends one message if room can be made; returns its offset or -1. Wakes every group unless told not to. */
  /** @internal (PublishQueueHost) */
  append(value: T, s: PublishSettings, wake = true): number {
    const ring = this.ring;
    const ttl = s.ttlMs < this.ttlMs ? s.ttlMs : this.ttlMs;
    const due = s.delayMs === 0 && s.deliverAt === 0 ? 0 : this.dueOf(s);
    let off: number;
    if (ring.size >= this.capacity || ring.tail - ring.head >= ring.mask + 1) {
      const slots = ring.mask + 1;
      if (ttl === Infinity && ring.size === slots && this.capacity === slots && ring.tail - ring.head === slots && ring.head < this.minFloor()) {
        // steady state of a full ring: the oldest message was only kept for replay
        const stamp = this.clock.stamp();
        this.journal.append(ring.tail, value, s, stamp, Infinity, due);
        off = ring.overwrite(value, s.key, s.headers ?? EMPTY_HEADERS, stamp);
        this.journal.evicted(ring.head);
        this.published++;
        if (this.levelOf !== undefined) this.rank(off, s.priority);
        if (due !== 0) this.delay(off, due);
        if (wake) this.wakeFor(off, value);
        return off;
      }
      if (!this.makeRoom()) return -1;
    }
    const now = ttl === Infinity ? this.clock.stamp() : this.clock.now();
    const expires = ttl === Infinity ? Infinity : now + ttl;
    this.journal.append(ring.tail, value, s, now, expires, due);
    off = ring.append(value, s.key, s.headers ?? EMPTY_HEADERS, now, expires);
    this.published++;
    if (this.levelOf !== undefined) this.rank(off, s.priority);
    if (expires !== Infinity) {
      this.expiry.add(expires, off);
      this.ttlActive = true;
    }
    if (due !== 0) this.delay(off, due);
    if (wake) this.wakeFor(off, value);
    return off;
  }

  /**
   * Wakes the groups for the message just appended at `off`. On a topic with priorities, each
   * group hands it straight to its one member when nothing else waits (see `pushLeveled` in hot/publish.ts).
   */
  private wakeFor(off: number, value: T): void {
    if (this.levelOf === undefined || this.delayed !== 0 || this.ordered || this.codec !== undefined) {
      this.wakeAll();
      return;
    }
    const gl = this.groupList;
    const level = (this.levelOf as Uint8Array)[off & this.ring.mask];
    for (let i = 0; i < gl.length; i++) pushLeveled(gl[i], off, value, level);
  }


  /** Appends `list` from `from` one by one while there is room, without waking; returns where it stopped. */
  protected appendEach(list: readonly T[], s: PublishSettings, each: readonly PublishSettings[] | undefined, offsets: number[], from: number): number {
    let i = from;
    for (; i < list.length; i++) {
      const off = this.append(list[i], each === undefined ? s : each[i], false);
      if (off < 0) break;
      offsets.push(off);
    }
    return i;
  }

  /**
   * The lean batch path: appends as much of `list` as fits in runs (free slots, or the oldest
   * slots of a full ring that nobody needs), one stamp per run, without waking anyone. Returns
   * how many went in (their offsets written to `offsets[0..n)`); the general path decides about
   * the rest.
   */
  protected appendRuns(list: readonly T[], offsets: number[]): number {
    const ring = this.ring;
    let i = 0;
    while (i < list.length) {
      const slots = ring.mask + 1;
      let k = Math.min(this.capacity - ring.size, slots - (ring.tail - ring.head), list.length - i);
      let overwrite = false;
      if (k <= 0) {
        if (ring.size !== slots || this.capacity !== slots || ring.tail - ring.head !== slots) break;
        k = Math.min(this.minFloor() - ring.head, list.length - i);
        if (k <= 0) break;
        overwrite = true;
      }
      const first = ring.appendRun(list, i, k, this.clock.stamp(), overwrite);
      for (let j = 0; j < k; j++) offsets[i + j] = first + j;
      i += k;
      this.published += k;
    }
    return i;
  }

}
