import type { Message } from '../../../types.js';
import { DeliveryImpl, type Settler } from './delivery.js';
import { CLAIMED, FRESH, type GroupMember, INFLIGHT, SETTLED, WAITING } from './group-types.js';
import type { LevelQueues } from './levels.js';
import type { Settle } from './settle.js';
import type { GroupState } from './state.js';
import type { Timers } from './timers.js';

/**
 * Handing out a consumer group's messages: the general take (redeliveries first, then the
 * cursor; priority levels and key order plug in here), the claim that makes a taken offset a
 * delivery, the `values()` claims without a Delivery (`takeRaw`, the lane). The fresh takes and
 * the publish hand-offs, shaped for the JIT, are in memory/hot/.
 */
export class Take<T> {
  private readonly group: Settler<T>;
  private readonly settle: Settle<T>;
  private readonly timers: Timers<T>;
  /** Generation of the last `takeRaw`. */
  rawGen = 0;
  /** Delivery count of the last claim. */
  private lastCount = 0;

  constructor(group: Settler<T>, settle: Settle<T>, timers: Timers<T>) {
    this.group = group;
    this.settle = settle;
    this.timers = timers;
  }

  /**
   * Claims the next offset to hand out: redeliveries first (lowest offset first), then the
   * cursor. Returns -1 when nothing is ready. The caller must `deliver`, `skip` or `unclaim` it.
   */
  take(): number {
    const g = this.group;
    g.host.expireDue();
    const ring = g.host.ring;
    const redeliver = g.redeliver;
    while (redeliver.size > 0) {
      const off = redeliver.pop();
      if (!this.readyFromQueue(off)) continue;
      g.set(off, CLAIMED);
      return off;
    }
    if (g.lq !== null) return this.takeLeveled();
    const tail = ring.tail;
    const live = ring.live;
    const rmask = ring.mask;
    const committed = g.committed;
    const delayed = g.host.delayed;
    while (g.next < tail) {
      const off = g.next++;
      if (live[off & rmask] === 0) {
        g.expired++; // a tombstone: expired before this group got to it
        if (off === g.committed) g.committed = off + 1; // everything below was settled: so is this
        continue;
      }
      const st = g.st(off);
      if (st !== FRESH) {
        // settled ahead of the cursor (an out-of-order ack recovered from a store): the committed offset follows
        if (st === SETTLED && off === g.committed) g.committed = off + 1;
        continue;
      }
      if ((delayed !== 0 && g.host.notDue(off)) || (g.ko !== null && !this.settle.keyFree(off))) {
        // not due yet, or its key is in flight: passed, and held unsettled until the topic says
        // it came due (cameDue) or its key is released (keyReleased)
        g.set(off, WAITING);
        g.pending++;
        continue;
      }
      g.set(off, CLAIMED);
      if (g.committed !== committed) g.host.released(g.committed);
      return off;
    }
    if (g.committed !== committed) g.host.released(g.committed); // after the scan: admitting may re-lay the ring
    return ring.tail !== tail ? this.take() : -1;
  }

  /**
   * An offset popped from a queue of WAITING offsets (the redelivery heap, a level queue): true
   * when it goes out now (no longer pending; the caller claims it). False when it is stale
   * (settled meanwhile by a commit, clamp or drop), waits for its key, or expired while waiting
   * (then settled here).
   */
  private readyFromQueue(off: number): boolean {
    const g = this.group;
    if (off < g.committed || g.st(off) !== WAITING) return false;
    const ring = g.host.ring;
    if (g.ko !== null && ring.isLive(off) && !this.settle.keyFree(off)) return false; // waits for its key
    g.pending--;
    if (!ring.isLive(off)) {
      g.expired++;
      this.settle.settleAt(off); // expired while waiting
      return false;
    }
    return true;
  }

  /**
   * `take` past the redeliveries on a topic with priorities: the cursor moves every message up to
   * the tail into its level's queue (marked WAITING, so the committed offset stays below it), then
   * the fair-queuing rule ({@link LevelQueues.choose}) picks a level and its lowest offset goes out.
   */
  private takeLeveled(): number {
    const g = this.group;
    const lq = g.lq as LevelQueues;
    const ring = g.host.ring;
    const committed = g.committed;
    const delayed = g.host.delayed;
    const tail = ring.tail;
    while (g.next < tail) {
      const off = g.next++;
      if (!ring.isLive(off)) {
        g.expired++; // a tombstone: expired before this group got to it
        if (off === g.committed) g.committed = off + 1;
        continue;
      }
      const st = g.st(off);
      if (st !== FRESH) {
        // settled ahead of the cursor (an out-of-order ack recovered from a store): the committed offset follows
        if (st === SETTLED && off === g.committed) g.committed = off + 1;
        continue;
      }
      g.set(off, WAITING);
      g.pending++;
      if (delayed !== 0 && g.host.notDue(off)) continue; // cameDue queues it
      // with ordering: 'key', only the earliest unsettled message of a key is queued (it holds the
      // key from here); later ones wait for it (keyReleased queues them)
      if (g.ko === null || this.settle.keyFree(off)) lq.push(g.levelAt(off), off);
    }
    if (g.committed !== committed) g.host.released(g.committed); // after the scan: admitting may re-lay the ring
    for (;;) {
      const level = lq.choose();
      if (level < 0) return ring.tail !== tail ? this.take() : -1;
      const off = lq.pop(level);
      if (!this.readyFromQueue(off)) continue;
      lq.delivered(level);
      g.host.firstDelivered(level);
      g.set(off, CLAIMED);
      return off;
    }
  }

  /** A message view for a source-side filter. */
  message(off: number, value: T): Message<T> {
    const ring = this.group.host.ring;
    const i = off & ring.mask;
    return { offset: off, value, key: ring.keys[i], headers: ring.headers[i], timestamp: ring.stamps[i] };
  }

  /** The value to hand out for a claimed offset: decoded when the topic has a codec. Returns false (and dead-letters it) when it cannot be decoded. */
  valueAt(off: number): { ok: true; value: T } | { ok: false } {
    const ring = this.group.host.ring;
    const raw = ring.values[off & ring.mask] as T;
    const decode = this.group.host.decode;
    if (decode === undefined) return { ok: true, value: raw };
    try {
      return { ok: true, value: decode(raw) };
    } catch (e) {
      this.settle.deadLetterAt(off, 'decode-error', e instanceof Error ? e.message : String(e));
      return { ok: false };
    }
  }

  /** Settles a claimed offset that a filter rejected. */
  skip(off: number): void {
    this.group.filtered++;
    this.settle.settleAt(off);
  }

  /** Gives a claimed offset back untouched (a filter threw). */
  unclaim(off: number): void {
    const g = this.group;
    g.set(off, WAITING);
    g.pending++;
    g.redeliver.push(off, off);
  }

  /** Hands a claimed offset to `member`: INFLIGHT, or SETTLED at once when `auto`. Returns the generation. */
  private claim(member: GroupMember<T>, off: number, auto: boolean, timed: boolean): number {
    const g = this.group;
    const i = g.set(off, INFLIGHT);
    const c = ++g.count[i];
    this.lastCount = c;
    g.delivered++;
    if (c > 1) g.redelivered++;
    g.journal.deliver(off, c);
    if (auto) {
      g.acked++;
      this.settle.settleAt(off);
      return 0;
    }
    const gen = ++g.genSeq;
    g.gens[i] = gen;
    g.owner[i] = member;
    member.held++;
    g.pending++;
    g.inflight++;
    if (timed) {
      g.epochs[i] = g.epoch;
      if (g.sweeper === null && g.host.ackTimeoutMs !== Infinity) this.timers.startSweeper();
    } else g.epochs[i] = Infinity;
    return gen;
  }

  /** A Delivery for an offset `takeRaw(member, true)` just handed out. */
  wrap(off: number, track: boolean): DeliveryImpl<T> {
    const g = this.group;
    const ring = g.host.ring;
    const r = off & ring.mask;
    const d = new DeliveryImpl(this.group, this.rawGen, off, ring.values[r] as T, ring.keys[r], ring.headers[r], ring.stamps[r], g.count[off & g.mask]);
    if (track) this.timers.track(d, this.rawGen);
    return d;
  }

  /** Claim + a Delivery object. */
  deliver(member: GroupMember<T>, off: number, auto: boolean, track: boolean, value: T): DeliveryImpl<T> {
    // read the slot first: an auto settle may admit a waiting publisher into it, or re-lay the ring
    const ring = this.group.host.ring;
    const r = off & ring.mask;
    const key = ring.keys[r];
    const headers = ring.headers[r];
    const stamp = ring.stamps[r];
    const gen = this.claim(member, off, auto, true);
    const d = new DeliveryImpl(this.group, gen, off, value, key, headers, stamp, this.lastCount);
    if (track && !auto) this.timers.track(d, gen);
    return d;
  }

  /** Claim without a Delivery object and without an ack timer: the `values()` path, settled synchronously with `Settle.settleRaw`. */
  deliverRaw(member: GroupMember<T>, off: number): number {
    return this.claim(member, off, false, false);
  }

  /**
   * `take()` + `deliverRaw()` in one pass for the common case of the `values()` path: no
   * redelivery waiting and no TTL. Returns the offset now INFLIGHT for `member` (its generation
   * in `rawGen`), or -1 when nothing is ready, or -2 when the caller must use the general path.
   */
  takeRaw(member: GroupMember<T>, timed = false): number {
    const g = this.group;
    if (g.redeliver.size !== 0 || g.host.ttlActive) return -2;
    const ring = g.host.ring;
    const tail = ring.tail;
    const live = ring.live;
    const rmask = ring.mask;
    const mask = g.mask;
    const committed = g.committed;
    let off = g.next;
    let i = 0;
    for (;;) {
      if (off >= tail) {
        g.next = off;
        if (g.committed !== committed) g.host.released(g.committed); // after the scan: admitting may re-lay the ring
        return ring.tail !== tail ? this.takeRaw(member, timed) : -1;
      }
      if (live[off & rmask] === 0) {
        g.expired++;
        if (off === g.committed) g.committed = off + 1; // a tombstone at the committed offset: settled
        off++;
        continue;
      }
      i = off & mask;
      if (g.tag[i] !== off) {
        g.tag[i] = off;
        g.count[i] = 1;
        break;
      }
      if (g.state[i] === FRESH) {
        g.count[i]++;
        break;
      }
      if (g.state[i] === SETTLED && off === g.committed) g.committed = off + 1; // see take()
      off++;
    }
    g.next = off + 1;
    this.rawGen = this.hold(member, off, i, timed);
    if (g.committed !== committed) g.host.released(g.committed);
    return off;
  }

  /**
   * Marks slot `i` (offset `off`, tagged, its count already set) INFLIGHT for `member`: a new
   * generation, the ack-timeout epoch when `timed`, the counters, the journal. Returns the generation.
   */
  private hold(member: GroupMember<T>, off: number, i: number, timed: boolean): number {
    const g = this.group;
    g.state[i] = INFLIGHT;
    const gen = ++g.genSeq;
    g.gens[i] = gen;
    g.owner[i] = member;
    if (timed && g.host.ackTimeoutMs !== Infinity) {
      g.epochs[i] = g.epoch;
      if (g.sweeper === null) this.timers.startSweeper();
    } else g.epochs[i] = Infinity;
    member.held++;
    g.pending++;
    g.inflight++;
    g.delivered++;
    if (g.count[i] > 1) g.redelivered++;
    g.journal.deliver(off, g.count[i]);
    return gen;
  }
}

/**
 * The lane: the next message when this group is caught up (`committed === next`, nothing
 * waiting, no TTL, nothing journaled, the slot never touched), taken without slot state: `next` moves,
 * `committed` stays on it (so the ring keeps it) until {@link laneDone}. Returns -1 when nothing
 * is ready, -2 when the caller must take the regular path.
 */
export function laneOffset<T>(g: GroupState<T>): number {
  const off = g.next;
  const ring = g.host.ring;
  // redeliveries first: a caught-up cursor does not mean nothing is ready (laneSkipsRedelivery)
  if (off !== g.committed || g.lane !== -1 || g.redeliver.size !== 0 || g.journal.records || g.host.ttlActive) return -2;
  if (off >= ring.tail) return -1;
  if (ring.live[off & ring.mask] === 0 || g.tag[off & g.mask] === off) return -2;
  g.next = off + 1;
  g.delivered++;
  g.lane = off;
  return off;
}

/** Ends a lane hand-off: settled when `ok`, else returned for redelivery. */
export function laneDone<T>(g: GroupState<T> & { readonly settle: Settle<T> }, off: number, ok: boolean): void {
  const lane = g.lane;
  g.lane = -1;
  // a seek made the hand-off stale (see Positions.seek), or a commit, clamp or drop moved
  // past it or settled it meanwhile: nothing left to do
  if (lane !== off || g.committed !== off || g.next <= off || g.tag[off & g.mask] === off) return;
  if (ok) {
    g.acked++;
    g.committed = off + 1;
    // a re-entrant publish may have gone to another member and been settled meanwhile
    if (g.next > off + 1) g.passSettled();
    g.host.released(g.committed);
    if (g.host.closed) g.settle.checkDrained();
    return;
  }
  const i = g.set(off, INFLIGHT);
  g.count[i] = 1;
  g.pending++;
  g.nacked++;
  g.settle.giveBack(off, 0);
}
