import { Delays } from './delays.js';
import type { OverflowHost } from './overflow.js';
import { pow2AtLeast } from './ring.js';
import { LogState } from './log-state.js';

/**
 * Room in a topic's log: retention (the head moves past what no group needs), expiry, the
 * overflow strategy's host, and when publishers waiting for room are let in.
 */
export abstract class LogRetention<T> extends LogState<T> implements OverflowHost {
  /** The ring is full: expire, evict what no group needs, or ask the overflow strategy. */
  protected makeRoom(): boolean {
    this.expireDue();
    const ring = this.ring;
    for (;;) {
      if (ring.size < this.capacity) {
        if (ring.span >= ring.slots) this.relayout(ring.slots * 2); // tombstones hold slots
        return true;
      }
      if (ring.head < this.minFloor()) {
        ring.evictHead();
        this.afterHeadMove();
        continue;
      }
      if (!this.strategy.onFull(this)) return false;
    }
  }

  /**
   * A lower bound of every group's committed offset: floors only move down by a seek or a new
   * group, which lower it ({@link committedLowered}), so `head < floorLow` proves nobody needs the
   * head without visiting every group on every publish.
   */
  private floorLow = 0;

  /** @internal (LeanLog) True when no group needs the oldest retained message (`ring.head < minFloor()`), usually without computing the minimum. */
  headFree(): boolean {
    const head = this.ring.head;
    if (head < this.floorLow) return true;
    this.floorLow = this.minFloor();
    return head < this.floorLow;
  }

  /** @internal (GroupHost) A group's committed offset moved down to `floor` (a seek), or a group starts there. */
  committedLowered(floor: number): void {
    if (floor < this.floorLow) this.floorLow = floor;
  }

  protected minFloor(): number {
    let min = this.ring.tail;
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) if (gl[i].committed < min) min = gl[i].committed;
    return min;
  }

  /**
   * The head moved (expiry, eviction): every group whose committed offset it passed is clamped to
   * it. Room made meanwhile admits waiting publishers only once all are clamped: admitting during
   * the loop could re-lay the ring (and the groups' windows, from the new head) before a later
   * group had settled what it held below the head, losing those deliveries' state.
   */
  protected afterHeadMove(): void {
    const head = this.ring.head;
    this.journal.evicted(head);
    const was = this.clamping;
    this.clamping = true;
    try {
      for (const g of this.groupList) if (g.committed < head) g.clampTo(head, false);
    } finally {
      this.clamping = was;
    }
    if (!was && this.releaseDeferred) {
      this.releaseDeferred = false;
      this.releasedSlow();
    }
  }

  /** True while {@link afterHeadMove} clamps the groups; `releaseDeferred` when a settle meanwhile asked to admit. */
  private clamping = false;
  private releaseDeferred = false;

  protected relayout(slots: number): void {
    const of = this.levelOf;
    if (of !== undefined) {
      const ring = this.ring;
      const next = new Uint8Array(slots);
      for (let off = ring.head; off < ring.tail; off++) next[off & (slots - 1)] = of[off & ring.mask];
      this.levelOf = next;
    }
    this.ring.resize(slots);
    for (const g of this.groupList) g.resize(slots);
  }

  // ---- OverflowHost -------------------------------------------------------------------------

  get needed(): number {
    return this.ring.tail - Math.max(this.ring.head, this.minFloor());
  }

  dropOldest(): void {
    const ring = this.ring;
    const off = ring.head;
    for (const g of this.groupList) g.dropped(off, ring.isLive(off));
    this.dropped++;
    ring.evictHead();
    this.afterHeadMove();
  }

  setCapacity(capacity: number): void {
    const ring = this.ring;
    this.capacity = capacity;
    this.setReleaseAt();
    const floor = this.minFloor();
    while (ring.size > capacity && ring.head < floor) ring.evictHead();
    this.afterHeadMove();
    // growing: slots follow on demand (makeRoom doubles them); shrinking: give memory back
    const slots = pow2AtLeast(Math.max(capacity, ring.span, 1));
    if (slots < ring.slots) this.relayout(slots);
  }

  /** Expires messages whose time has come, and releases delayed messages that came due (cheap when nothing is due). */
  expireDue(): void {
    if (this.expiry.due()) this.expireUntil(this.scheduler.now());
    if (this.delayed !== 0 && (this.delays as Delays).due()) this.releaseDue(false);
  }

  protected expireUntil(now: number): void {
    this.expired += this.expiry.expire(this.ring, now, this.minFloor());
    this.agedOut += this.expiry.agedOut;
    this.syncTtlActive();
    this.afterHeadMove();
  }

  /**
   * Room may have been made. Waiting publishers go in once the ring has drained to half its
   * capacity (a low-water mark, as Node streams wait for 'drain'): a producer and a consumer in
   * lock-step then trade one wake per half ring instead of one per message. They go in at once
   * when a member has nothing left to take and waits for more (a pending `recv`, an attached
   * face), and a consumer that finds nothing admits them ({@link refill}): the mark never stalls anyone.
   */
  released(floor: number): void {
    // one compare, inlined into every settle: with publishers waiting, the ring drains from full
    // to half with every settle landing here, and the slow path's checks on each would cost
    // every consume() and channel message
    if (floor >= this.releaseAt) this.releasedSlow();
  }

  /**
   * The lowest floor at which a settle can have anything to do in {@link releasedSlow}:
   * `Infinity` while no publisher waits, `-Infinity` when every settle must look (a member may
   * be hungry, the capacity is not the configured one, the head has passed the mark), else the
   * half-mark `tail - capacity / 2` (the settling group's floor is at least the lowest floor,
   * so below the mark it proves the mark unmet; the tail does not move while publishers wait,
   * except by admitting them, after which this is computed again).
   */
  private releaseAt = Infinity;

  /**
   * A member may be hungry while publishers wait: set when a publisher starts waiting and when a
   * member found nothing and no room ({@link refill}); cleared when {@link releasedSlow} finds no
   * member hungry. Every way a member becomes hungry goes through a take that finds nothing,
   * and so through `refill`.
   */
  private hungerSeen = false;

  protected mayHunger(): void {
    this.hungerSeen = true;
    this.releaseAt = -Infinity;
  }

  private setReleaseAt(): void {
    const ring = this.ring;
    const mark = ring.tail - (this.capacity >>> 1);
    if (this.capacity !== this.settings.capacity) this.releaseAt = -Infinity;
    else if (this.queue.length === 0) this.releaseAt = Infinity;
    else this.releaseAt = this.hungerSeen || ring.head >= mark ? -Infinity : mark;
  }

  protected releasedSlow(): void {
    if (this.clamping) {
      this.releaseDeferred = true;
      return;
    }
    if (this.queue.length > 0) {
      if (this.needed <= this.capacity >>> 1) this.queue.admit();
      else if (this.hungerSeen) {
        if (this.hungry()) this.queue.admit();
        else this.hungerSeen = false;
      }
    }
    if (this.capacity !== this.settings.capacity) this.strategy.onRelease(this);
    this.setReleaseAt();
  }

  protected hungry(): boolean {
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) if (gl[i].awaitPublish()) return true;
    return false;
  }

  refill(): boolean {
    if (this.queue.length === 0) return false;
    const ring = this.ring;
    if (ring.size >= this.capacity && ring.head >= this.minFloor()) {
      this.mayHunger(); // no room: not worth a round, but the next settle must look
      return false;
    }
    const tail = this.ring.tail;
    this.queue.admit();
    this.setReleaseAt();
    return this.ring.tail !== tail;
  }
}
