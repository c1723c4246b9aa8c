import { Group } from './group/group.js';
import { EMPTY_HEADERS } from './ring.js';
import { LogRetention } from './log-retention.js';
import type { PublishSettings } from '../topic-options.js';

/**
 * Appending to a topic's log: one message (the lean one-pass path and the general one), runs of
 * a batch, and the wake of the groups for what was appended.
 */
export abstract class LogAppend<T> extends LogRetention<T> {
  /**
   * The common publish in one pass: no options, no codec, no store, no topic TTL, open. Returns
   * the offset, -1 when full (nothing changed), or -2 when the general `append` must decide.
   */
  protected appendLean(value: T): number {
    const ring = this.ring;
    const slots = ring.mask + 1;
    const clock = this.clock;
    // Ring.append / Ring.overwrite for a message with no key, headers or TTL, in one pass: the
    // slot's stores written once for both (a channel past its first lap overwrites on every send,
    // and `overwrite` ran as a call: the inlined publish had spent V8's budget)
    const off = ring.tail;
    const i = off & ring.mask;
    if (off - ring.head < slots && ring.size < this.capacity) {
      ring.live[i] = 1;
      ring.size++;
    } else if (ring.size === slots && this.capacity === slots && this.headFree()) {
      ring.head++;
    } else return -2;
    if (ring.decorated) ring.undecorate(i);
    ring.tail = off + 1;
    ring.values[i] = value;
    // two stores, not one of a conditional: the cached stamp goes into the Float64Array as a raw
    // double (as one value with stamp()'s result, V8 boxed it in a fresh heap number first)
    if (clock.budget > 0) {
      clock.budget--;
      ring.stamps[i] = clock.cached;
    } else ring.stamps[i] = clock.stamp();
    this.published++;
    const gl = this.groupList;
    if (gl.length === 1) {
      const g = gl[0];
      const m = g.direct;
      if (m === null || !(m.sink !== null ? g.push(m, off, value) : g.pushDelivery(m, off, value))) g.wake();
    } else if (gl.length > 1) Group.fanOut(gl, off, value); // out of line on purpose: see there
    return off;
  }

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
   * group hands it straight to its one member when nothing else waits (see `Group.pushLeveled`).
   */
  private wakeFor(off: number, value: T): void {
    if (this.levelOf === undefined || this.delayed !== 0 || this.ordered || this.codec !== undefined) {
      this.wakeAll();
      return;
    }
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) gl[i].pushLeveled(off, value);
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
