import type { Message } from '../types.js';
import { DeliveryImpl, type Settler } from './delivery.js';
import { CLAIMED, type DeadLetterReason, FRESH, type GroupMember, INFLIGHT, SETTLED, type ValueSink, WAITING } from './group-types.js';
import type { GroupHost } from './group-window.js';
import { GroupSettle } from './group-settle.js';
import type { KeyOrder } from './key-order.js';
import type { LevelQueues } from './levels.js';

export type { DeadLetterReason, GroupHost };

/**
 * A consumer group: a cursor (`next`), an ack floor (`floor`, the committed offset), a window
 * of per-slot state (struct-of-arrays, tagged by offset: {@link GroupWindow}), settling,
 * redelivery and timeouts ({@link GroupSettle}), and here: taking and handing out (the general
 * path, the `takeRaw`/lane/run fast paths, direct hand-offs at publish) and its members.
 */
export class Group<T> extends GroupSettle<T> implements Settler<T> {
  private genSeq = 0;
  /**
   * False only when no member would do anything on a wake (none busy handing out, none with a
   * `recv` waiting, none with a face attached: `ConsumerImpl.wakeable`), so a publish skips the
   * wake in one compare. Set by whatever makes a member wakeable (a `recv` that starts waiting, a
   * face attaching its listener, a member becoming the direct hand-off target; a face's drain and
   * hand-offs set `busy` only while its listener is attached) and computed again after each wake:
   * a channel whose receiver is behind its sender (nothing waits) skips the member walk on every send.
   */
  mayWake = false;
  private waking = false;
  private wakeAgain = false;
  private rr = 0;

  constructor(host: GroupHost<T>, name: string, durable: boolean, start: number) {
    super(host, name, durable, start);
    this.waking = true; // born mutable: a wake of several members flips it (see TopicLog's constructor)
    this.waking = false;
    this.mayWake = true;
    this.mayWake = false;
  }


  /** Everything has been handed out and a member waits for more: a waiting publisher should go in now. */
  hungry(): boolean {
    if (this.next < this.host.ring.tail || this.redeliver.size !== 0 || (this.lq !== null && this.lq.queued !== 0)) return false;
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) if (ms[i].hungry) return true;
    return false;
  }

  /** Something may be ready to hand out. */
  hasAvailable(): boolean {
    return this.redeliver.size > 0 || this.next < this.host.ring.tail || (this.lq !== null && this.lq.queued !== 0);
  }


  /**
   * Claims the next offset to hand out: redeliveries first (lowest offset first), then the
   * cursor. Returns -1 when nothing is ready. The caller must `deliver`, `skip` or `unclaim` it.
   */
  take(): number {
    this.host.expireDue();
    const ring = this.host.ring;
    const redeliver = this.redeliver;
    while (redeliver.size > 0) {
      const off = redeliver.pop();
      if (off < this.floor || this.st(off) !== WAITING) continue;
      if (this.ko !== null && ring.isLive(off) && !this.keyFree(off)) continue; // waits for its key
      this.pending--;
      if (!ring.isLive(off)) {
        this.expired++;
        this.settleAt(off); // expired while waiting
        continue;
      }
      this.set(off, CLAIMED);
      return off;
    }
    if (this.lq !== null) return this.takeLeveled();
    const tail = ring.tail;
    const live = ring.live;
    const rmask = ring.mask;
    const floor = this.floor;
    const delayed = this.host.delayed;
    while (this.next < tail) {
      const off = this.next++;
      if (live[off & rmask] === 0) {
        this.expired++; // a tombstone: expired before this group got to it
        if (off === this.floor) this.floor = off + 1; // everything below was settled: so is this
        continue;
      }
      const st = this.st(off);
      if (st !== FRESH) {
        // settled ahead of the cursor (an out-of-order ack recovered from a store): the floor follows
        if (st === SETTLED && off === this.floor) this.floor = off + 1;
        continue;
      }
      if ((delayed !== 0 && this.host.notDue(off)) || (this.ko !== null && !this.keyFree(off))) {
        // not due yet, or its key is in flight: passed, and held unsettled until the topic says
        // it came due (cameDue) or its key is released (keyReleased)
        this.set(off, WAITING);
        this.pending++;
        continue;
      }
      this.set(off, CLAIMED);
      if (this.floor !== floor) this.host.released(this.floor);
      return off;
    }
    if (this.floor !== floor) this.host.released(this.floor); // after the scan: admitting may re-lay the ring
    return ring.tail !== tail ? this.take() : -1;
  }

  /**
   * `take` past the redeliveries on a topic with priorities: the cursor moves every message up to
   * the tail into its level's queue (marked WAITING, so the floor stays below it), then the
   * fair-queuing rule ({@link LevelQueues.choose}) picks a level and its lowest offset goes out.
   */
  private takeLeveled(): number {
    const lq = this.lq as LevelQueues;
    const ring = this.host.ring;
    const floor = this.floor;
    const delayed = this.host.delayed;
    const tail = ring.tail;
    while (this.next < tail) {
      const off = this.next++;
      if (!ring.isLive(off)) {
        this.expired++; // a tombstone: expired before this group got to it
        if (off === this.floor) this.floor = off + 1;
        continue;
      }
      const st = this.st(off);
      if (st !== FRESH) {
        // settled ahead of the cursor (an out-of-order ack recovered from a store): the floor follows
        if (st === SETTLED && off === this.floor) this.floor = off + 1;
        continue;
      }
      this.set(off, WAITING);
      this.pending++;
      if (delayed !== 0 && this.host.notDue(off)) continue; // cameDue queues it
      // with ordering: 'key', only the earliest unsettled message of a key is queued (it holds the
      // key from here); later ones wait for it (keyReleased queues them)
      if (this.ko === null || this.keyFree(off)) lq.push(this.levelAt(off), off);
    }
    if (this.floor !== floor) this.host.released(this.floor); // after the scan: admitting may re-lay the ring
    for (;;) {
      const level = lq.choose();
      if (level < 0) return ring.tail !== tail ? this.take() : -1;
      const off = lq.pop(level);
      if (off < this.floor || this.st(off) !== WAITING) continue; // settled meanwhile (commit, clamp, drop)
      if (this.ko !== null && ring.isLive(off) && !this.keyFree(off)) continue; // waits for its key
      this.pending--;
      if (!ring.isLive(off)) {
        this.expired++;
        this.settleAt(off); // expired while waiting
        continue;
      }
      lq.delivered(level);
      this.host.firstDelivered(level);
      this.set(off, CLAIMED);
      return off;
    }
  }

  /** A message view for a source-side filter. */
  message(off: number, value: T): Message<T> {
    const ring = this.host.ring;
    const i = off & ring.mask;
    return { offset: off, value, key: ring.keys[i], headers: ring.headers[i], timestamp: ring.stamps[i] };
  }

  /** The value to hand out for a claimed offset: decoded when the topic has a codec. Returns false (and dead-letters it) when it cannot be decoded. */
  valueAt(off: number): { ok: true; value: T } | { ok: false } {
    const ring = this.host.ring;
    const raw = ring.values[off & ring.mask] as T;
    const decode = this.host.decode;
    if (decode === undefined) return { ok: true, value: raw };
    try {
      return { ok: true, value: decode(raw) };
    } catch (e) {
      this.deadLetterAt(off, 'decode-error', e instanceof Error ? e.message : String(e));
      return { ok: false };
    }
  }

  /** Settles a claimed offset that a filter rejected. */
  skip(off: number): void {
    this.filtered++;
    this.settleAt(off);
  }

  /** Gives a claimed offset back untouched (a filter threw). */
  unclaim(off: number): void {
    this.set(off, WAITING);
    this.pending++;
    this.redeliver.push(off, off);
  }

  /** Hands a claimed offset to `consumer`: INFLIGHT, or SETTLED at once when `auto`. Returns the generation. */
  private claim(consumer: GroupMember<T>, off: number, auto: boolean, timed: boolean): number {
    const i = this.set(off, INFLIGHT);
    const c = ++this.count[i];
    this.lastCount = c;
    this.delivered++;
    if (c > 1) this.redelivered++;
    if (this.store !== undefined) this.store.group({ kind: 'deliver', group: this.name, offset: off, count: c });
    if (auto) {
      this.acked++;
      this.settleAt(off);
      return 0;
    }
    const gen = ++this.genSeq;
    this.gens[i] = gen;
    this.owner[i] = consumer;
    consumer.held++;
    this.pending++;
    this.inflight++;
    if (timed) {
      this.epochs[i] = this.epoch;
      if (this.sweeper === null && this.host.ackTimeoutMs !== Infinity) this.startSweeper();
    } else this.epochs[i] = Infinity;
    return gen;
  }

  /**
   * The pull faces' common take in one small pass: the next message is live and was never handed
   * out, nothing waits for redelivery, no TTL, no journal. Claims it for `consumer` (an ack
   * timeout armed) and returns its Delivery, or undefined when the caller must use `takeRaw`.
   * Kept small on purpose: V8 inlines a `next()`, its `tryRecv` and this within one budget (920
   * bytes of bytecode), which `takeRaw` and `hold` together overran (hold ran as a call). The
   * claim is `hold()` written out: taken by the member that holds the lone run just before it,
   * it joins the run ({@link GroupWindow.solo}) here and writes no slot state at all; otherwise
   * {@link claimFresh} starts a run (from a caught-up group) or writes slot state.
   */
  takeFresh(consumer: GroupMember<T>): DeliveryImpl<T> | undefined {
    const off = this.next;
    const ring = this.host.ring;
    const i = off & this.mask;
    const r = off & ring.mask;
    if (off >= ring.tail || this.tag[i] === off || this.redeliver.size !== 0 || this.store !== undefined || ring.live[r] === 0 || this.host.ttlActive) return undefined;
    const after = off + 1;
    let gen: number;
    if (off === this.soloEnd && consumer === this.soloOwner) {
      // the lone run grows: its sweeper runs (whatever starts a run starts it, and a sweep writes
      // a run out before it stops), and its epoch is current
      gen = this.soloGen;
      if (this.solo === -1) this.solo = off; // the run was empty: it starts again here
      this.soloEnd = after;
    } else gen = this.claimFresh(consumer, off);
    this.next = after;
    consumer.held++; // the group's counters: the run counts itself, claimSlot counts the rest
    return new DeliveryImpl(this, gen, off, ring.values[r] as T, ring.keys[r], ring.headers[r], ring.stamps[r], 1);
  }

  /**
   * `takeFresh`'s claim of `off` when it does not grow the lone run: it starts one (the group is
   * caught up) or writes slot state. Out of line, so that `takeFresh` fits in V8's inlining budget
   * (it is inlined into every pull face). Returns the generation. `pushDelivery` writes the same
   * claim out inline (twins: keep them in step; a call there shows in `messages()`'s
   * `npm run bench:ir` count).
   */
  private claimFresh(consumer: GroupMember<T>, off: number): number {
    let epoch = Infinity;
    if (this.host.ackTimeoutMs !== Infinity) {
      epoch = this.epoch;
      if (this.sweeper === null) this.startSweeper();
    }
    const gen = ++this.genSeq;
    if (off === this.floor) this.startRun(off, off + 1, gen, consumer, epoch); // caught up: no slot state
    else this.claimSlot(consumer, off, gen, epoch);
    return gen;
  }

  /**
   * The pull faces' take on a topic with `ordering: 'key'` when nothing else needs looking at (no
   * priorities, no delayed message, no redelivery waiting, no journal): the message at the cursor
   * when it is live and its key is free (or it has none), claimed for `consumer` in slot state,
   * never in a lone run (its ack must release the key). Undefined when the caller must use the
   * general `take` (which also sets a message whose key is held aside to wait for it).
   */
  takeKeyed(consumer: GroupMember<T>): DeliveryImpl<T> | undefined {
    const host = this.host;
    host.expireDue();
    const off = this.next;
    const ring = host.ring;
    const r = off & ring.mask;
    if (off >= ring.tail || this.tag[off & this.mask] === off || this.redeliver.size !== 0 || this.store !== undefined || ring.live[r] === 0 || host.delayed !== 0 || this.lq !== null) return undefined;
    const key = ring.keys[r];
    if (key !== undefined && !(this.ko as KeyOrder).claim(key, off)) return undefined;
    let epoch = Infinity;
    if (host.ackTimeoutMs !== Infinity) {
      epoch = this.epoch;
      if (this.sweeper === null) this.startSweeper();
    }
    const gen = ++this.genSeq;
    this.claimSlot(consumer, off, gen, epoch);
    this.next = off + 1;
    consumer.held++;
    return new DeliveryImpl(this, gen, off, ring.values[r] as T, key, ring.headers[r], ring.stamps[r], 1);
  }

  /** `claimFresh` behind others: slot state, out of line (the inlining budget again). */
  private claimSlot(consumer: GroupMember<T>, off: number, gen: number, epoch: number): void {
    const i = off & this.mask;
    this.tag[i] = off;
    this.count[i] = 1;
    this.state[i] = INFLIGHT;
    this.gens[i] = gen;
    this.owner[i] = consumer;
    this.epochs[i] = epoch;
    this.pending++;
    this.inflight++;
    this.delivered++;
  }

  /** A Delivery for an offset `takeRaw(consumer, true)` just handed out. */
  wrap(off: number, track: boolean): DeliveryImpl<T> {
    const ring = this.host.ring;
    const r = off & ring.mask;
    const d = new DeliveryImpl(this, this.rawGen, off, ring.values[r] as T, ring.keys[r], ring.headers[r], ring.stamps[r], this.count[off & this.mask]);
    if (track) {
      this.track(d, this.rawGen);
    }
    return d;
  }

  /** Claim + a Delivery object. */
  deliver(consumer: GroupMember<T>, off: number, auto: boolean, track: boolean, value: T): DeliveryImpl<T> {
    // read the slot first: an auto settle may admit a waiting publisher into it, or re-lay the ring
    const ring = this.host.ring;
    const r = off & ring.mask;
    const key = ring.keys[r];
    const headers = ring.headers[r];
    const stamp = ring.stamps[r];
    const gen = this.claim(consumer, off, auto, true);
    const d = new DeliveryImpl(this, gen, off, value, key, headers, stamp, this.lastCount);
    if (track && !auto) {
      this.track(d, gen);
    }
    return d;
  }

  /** Claim without a Delivery object and without an ack timer: the `values()` fast path, settled synchronously with `settleRaw`. */
  deliverRaw(consumer: GroupMember<T>, off: number): number {
    return this.claim(consumer, off, false, false);
  }

  /**
   * `take()` + `deliverRaw()` in one pass for the common case of the `values()` fast path: no
   * redelivery waiting and no TTL. Returns the offset now INFLIGHT for `consumer` (its generation
   * in `rawGen`), or -1 when nothing is ready, or -2 when the caller must use the general path.
   */
  takeRaw(consumer: GroupMember<T>, timed = false): number {
    if (this.redeliver.size !== 0 || this.host.ttlActive) return -2;
    const ring = this.host.ring;
    const tail = ring.tail;
    const live = ring.live;
    const rmask = ring.mask;
    const mask = this.mask;
    const floor = this.floor;
    let off = this.next;
    let i = 0;
    for (;;) {
      if (off >= tail) {
        this.next = off;
        if (this.floor !== floor) this.host.released(this.floor); // after the scan: admitting may re-lay the ring
        return ring.tail !== tail ? this.takeRaw(consumer, timed) : -1;
      }
      if (live[off & rmask] === 0) {
        this.expired++;
        if (off === this.floor) this.floor = off + 1; // a tombstone at the floor: settled
        off++;
        continue;
      }
      i = off & mask;
      if (this.tag[i] !== off) {
        this.tag[i] = off;
        this.count[i] = 1;
        break;
      }
      if (this.state[i] === FRESH) {
        this.count[i]++;
        break;
      }
      if (this.state[i] === SETTLED && off === this.floor) this.floor = off + 1; // see take()
      off++;
    }
    this.next = off + 1;
    this.rawGen = this.hold(consumer, off, i, timed);
    if (this.floor !== floor) this.host.released(this.floor);
    return off;
  }

  /**
   * The lane: the next message when this group is caught up (`floor === next`, nothing waiting,
   * no TTL, no store, the slot never touched), taken without slot state: `next` moves, `floor`
   * stays on it (so the ring keeps it) until {@link laneDone}. Returns -1 when nothing is ready,
   * -2 when the caller must take the regular path.
   */
  laneOffset(): number {
    const off = this.next;
    const ring = this.host.ring;
    // redeliveries first: a caught-up cursor does not mean nothing is ready (laneSkipsRedelivery)
    if (off !== this.floor || this.lane !== -1 || this.redeliver.size !== 0 || this.store !== undefined || this.host.ttlActive) return -2;
    if (off >= ring.tail) return -1;
    if (ring.live[off & ring.mask] === 0 || this.tag[off & this.mask] === off) return -2;
    this.next = off + 1;
    this.delivered++;
    this.lane = off;
    return off;
  }

  /** Ends a lane hand-off: settled when `ok`, else returned for redelivery. */
  laneDone(off: number, ok: boolean): void {
    const lane = this.lane;
    this.lane = -1;
    // a seek made the hand-off stale (see GroupWindow.seek), or a commit, clamp or drop moved
    // past it or settled it meanwhile: nothing left to do
    if (lane !== off || this.floor !== off || this.next <= off || this.tag[off & this.mask] === off) return;
    if (ok) {
      this.acked++;
      this.floor = off + 1;
      // a re-entrant publish may have gone to another member and been settled meanwhile
      if (this.next > off + 1) this.passSettled();
      this.host.released(this.floor);
      if (this.host.closed) this.checkDrained();
      return;
    }
    const i = this.set(off, INFLIGHT);
    this.count[i] = 1;
    this.pending++;
    this.nacked++;
    this.giveBack(off, 0);
  }


  /** How many messages lie past the cursor (an upper bound on what a take can claim now). */
  backlog(): number {
    return this.host.ring.tail - this.next;
  }

  /**
   * `takeRaw` + `wrap` for a run: claims up to `max` never-delivered messages from the cursor in
   * one pass (one generation for the run: offsets tell its deliveries apart) and pushes their
   * Deliveries to `out` from index `at`. Stops at the first message that needs the general path.
   * Returns how many.
   */
  takeRun(consumer: GroupMember<T>, max: number, out: DeliveryImpl<T>[], at: number): number {
    if (max <= 0 || this.redeliver.size !== 0 || this.host.ttlActive || this.store !== undefined) return 0;
    const ring = this.host.ring;
    const { values, keys, headers, stamps, live } = ring;
    const rmask = ring.mask;
    const { tag, count, state, gens, owner, epochs, mask } = this;
    const start = this.next;
    const end = Math.min(ring.tail, start + max);
    const timed = this.host.ackTimeoutMs !== Infinity;
    const epoch = timed ? this.epoch : Infinity;
    // the lone run grows, or starts when caught up: no slot state (see GroupWindow.solo)
    const grows = start === this.soloEnd && consumer === this.soloOwner;
    const lone = grows || start === this.floor;
    const gen = grows ? this.soloGen : ++this.genSeq;
    let off = start;
    if (lone) {
      for (; off < end; off++) {
        const r = off & rmask;
        if (live[r] === 0 || tag[off & mask] === off) break;
        out[at++] = new DeliveryImpl(this, gen, off, values[r] as T, keys[r], headers[r], stamps[r], 1);
      }
      if (off > start) {
        if (!grows) this.startRun(start, off, gen, consumer, epoch);
        else {
          if (this.solo === -1) this.solo = start; // the run was empty: it starts again here
          this.soloEnd = off;
        }
      }
    } else {
      for (; off < end; off++) {
        const r = off & rmask;
        const i = off & mask;
        if (live[r] === 0 || tag[i] === off) break;
        tag[i] = off;
        count[i] = 1;
        state[i] = INFLIGHT;
        gens[i] = gen;
        owner[i] = consumer;
        epochs[i] = epoch;
        out[at++] = new DeliveryImpl(this, gen, off, values[r] as T, keys[r], headers[r], stamps[r], 1);
      }
    }
    const k = off - start;
    this.next = off;
    consumer.held += k;
    if (!lone) {
      // a run counts itself (see GroupWindow.solo)
      this.pending += k;
      this.inflight += k;
      this.delivered += k;
    }
    if (timed && k > 0 && this.sweeper === null) this.startSweeper();
    return k;
  }

  /** The one member, when it has a plain sink (a `values()` face's, or a `messages()` face's): publishes may hand straight to it. */
  direct: GroupMember<T> | null = null;

  /** Re-evaluates {@link direct} (a member joined, left, or attached or detached a sink). */
  updateDirect(): void {
    const ms = this.members;
    this.direct = ms.length === 1 && (ms[0].sink !== null || ms[0].dsink !== null) && this.store === undefined ? ms[0] : null;
    if (this.direct !== null) this.mayWake = true; // its hand-offs set `busy`
  }


  /**
   * Hands `off`, just published, to the {@link direct} member's `messages()` subscriber as a
   * Delivery when the group has handed out everything before it, nothing waits for redelivery and
   * the member's window is open: the claim `takeRaw` makes, without the wake and the face's pass.
   */
  pushDelivery(m: GroupMember<T>, off: number, value: T): boolean { // twin: the messages branch of Group.fanOut
    const sink = m.dsink;
    const i = off & this.mask;
    if (sink === null || m.busy || this.next !== off || this.redeliver.size !== 0 || m.held >= m.prefetch || sink.closed || this.tag[i] === off) return false;
    // hold(), written out: this is the hottest claim (a call here costs a fifth of messages())
    const gen = ++this.genSeq;
    let epoch = Infinity;
    if (this.host.ackTimeoutMs !== Infinity) {
      epoch = this.epoch;
      if (this.sweeper === null) this.startSweeper();
    }
    if (off === this.floor) {
      // caught up: a lone run of one, no slot state (a subscriber that settles later, and takes
      // more meanwhile, writes slot state from the second on: this hand-off stays small)
      if (this.soloEnd !== -1) this.solidify(); // an emptied run here ends first
      this.solo = off;
      this.soloEnd = off + 1;
      this.soloGen = gen;
      this.soloOwner = m;
      this.soloEpoch = epoch;
      this.runBase = off;
    } else {
      this.tag[i] = off;
      this.count[i] = 1;
      this.state[i] = INFLIGHT;
      this.gens[i] = gen;
      this.owner[i] = m;
      this.epochs[i] = epoch;
      this.pending++;
      this.inflight++;
      this.delivered++;
    }
    this.next = off + 1;
    m.held++;
    const ring = this.host.ring;
    const r = off & ring.mask;
    const d = new DeliveryImpl(this, gen, off, value, ring.keys[r], ring.headers[r], ring.stamps[r], 1);
    m.busy = true;
    try {
      sink.next(d);
    } catch (e) {
      m.handOffFailed(e);
      return true;
    }
    m.busy = false;
    if (m.again) m.onAvailable();
    return true;
  }

  /**
   * Hands `off`, just published, straight to the {@link direct} member's sink when this group is
   * caught up on it and the member is not already busy handing out: the lane, entered from the
   * publish instead of through a wake. Settled when the sink returns, returned if it closed.
   * False when the regular wake must run instead.
   */
  push(m: GroupMember<T>, off: number, value: T): boolean { // twin: the values branch of Group.fanOut
    const sink = m.sink;
    // floor === next === off: everything before `off` is settled, so no lane is open and whatever
    // the redelivery heap still holds is stale (take() skips it)
    if (sink === null || m.busy || this.next !== off || this.floor !== off || sink.closed) return false;
    this.next = off + 1;
    this.delivered++;
    this.lane = off;
    m.busy = true;
    try {
      sink.next(value);
    } catch (e) {
      this.pushThrew(m, off, e);
      return true;
    }
    m.busy = false;
    // laneDone(off, true) for the common case, written out, everything else out of line. This is
    // inlined into the publisher, and whether V8 also inlines the subscriber's `next` chain here
    // turns on its exact shape: test `m.sink === sink` (close() clears it), not `!m.closed`
    if (this.floor === off && this.next === off + 1 && !sink.closed && m.sink === sink && !m.again && !this.host.closed && this.lane === off) {
      this.lane = -1;
      this.acked++;
      this.floor = off + 1;
      this.host.released(this.floor);
    } else this.pushSettle(m, off, sink);
    return true;
  }

  /**
   * A priority topic's publish hand-off: when nothing waits in this group (no level queue, no
   * redelivery, the cursor on `off`), the message just published is the only one to choose, so
   * it goes straight to the {@link direct} member as on a plain topic, counted to its level.
   * Otherwise, or when the member cannot take it now, the regular wake.
   */
  pushLeveled(off: number, value: T): void {
    const m = this.direct;
    const lq = this.lq as LevelQueues;
    if (m === null || lq.queued !== 0 || this.redeliver.size !== 0 || this.next !== off) {
      this.wake();
      return;
    }
    const level = this.levelAt(off);
    if (!(m.sink !== null ? this.push(m, off, value) : this.pushDelivery(m, off, value))) {
      this.wake();
      return;
    }
    lq.delivered(level);
    this.host.firstDelivered(level);
  }

  /**
   * The publish hand-off for a topic with several groups (several `values()` subscriptions, say):
   * `push` and `pushDelivery` for each group, written out in one loop. Twins of those two
   * methods, kept in step with them, and written out on purpose: V8 inlines a publish into the
   * publisher's own code, and with a call per group here it runs out of its inlining budget
   * before the subscribers' `next` chains. A body past V8's per-function inlining limit (460
   * bytes of bytecode) is compiled on its own instead, with every subscriber's chain inlined
   * into this loop.
   * `appendLean` keeps calling `push`/`pushDelivery` for a single group, where inlining the
   * whole publish into the publisher is what is fastest. Its size (781 bytes when written):
   * `node --print-bytecode --print-bytecode-filter=fanOut`; the faces property in
   * test/reliability covers both paths.
   */
  static fanOut<T>(gl: readonly Group<T>[], off: number, value: T): void {
    for (let k = 0; k < gl.length; k++) {
      const g = gl[k];
      const m = g.direct;
      if (m === null) {
        g.wake();
        continue;
      }
      const sink = m.sink;
      if (sink !== null) {
        // push(), written out
        if (m.busy || g.next !== off || g.floor !== off || sink.closed) {
          g.wake();
          continue;
        }
        g.next = off + 1;
        g.delivered++;
        g.lane = off;
        m.busy = true;
        try {
          sink.next(value);
        } catch (e) {
          g.pushThrew(m, off, e);
          continue;
        }
        m.busy = false;
        if (g.floor === off && g.next === off + 1 && !sink.closed && m.sink === sink && !m.again && !g.host.closed && g.lane === off) {
          g.lane = -1;
          g.acked++;
          g.floor = off + 1;
          g.host.released(g.floor);
        } else g.pushSettle(m, off, sink);
        continue;
      }
      // pushDelivery(), written out
      const dsink = m.dsink;
      const i = off & g.mask;
      if (dsink === null || m.busy || g.next !== off || g.redeliver.size !== 0 || m.held >= m.prefetch || dsink.closed || g.tag[i] === off) {
        g.wake();
        continue;
      }
      const gen = ++g.genSeq;
      let epoch = Infinity;
      if (g.host.ackTimeoutMs !== Infinity) {
        epoch = g.epoch;
        if (g.sweeper === null) g.startSweeper();
      }
      if (off === g.floor) {
        if (g.soloEnd !== -1) g.solidify();
        g.solo = off;
        g.soloEnd = off + 1;
        g.soloGen = gen;
        g.soloOwner = m;
        g.soloEpoch = epoch;
        g.runBase = off;
      } else {
        g.tag[i] = off;
        g.count[i] = 1;
        g.state[i] = INFLIGHT;
        g.gens[i] = gen;
        g.owner[i] = m;
        g.epochs[i] = epoch;
        g.pending++;
        g.inflight++;
        g.delivered++;
      }
      g.next = off + 1;
      m.held++;
      const ring = g.host.ring;
      const r = off & ring.mask;
      const d = new DeliveryImpl(g, gen, off, value, ring.keys[r], ring.headers[r], ring.stamps[r], 1);
      m.busy = true;
      try {
        dsink.next(d);
      } catch (e) {
        m.handOffFailed(e);
        continue;
      }
      m.busy = false;
      if (m.again) m.onAvailable();
    }
  }

  /**
   * `push`'s subscriber threw: the message goes back (while the member is still busy, so the
   * wake that causes only marks it), then the member fails and its face raises the error on its
   * next pull instead of being handed the message again.
   */
  private pushThrew(m: GroupMember<T>, off: number, e: unknown): void {
    this.laneDone(off, false);
    m.busy = false;
    m.fail(e);
  }

  /** `push`'s general ending: something moved during the hand-off, the subscriber left, or a wake arrived meanwhile. */
  private pushSettle(m: GroupMember<T>, off: number, sink: ValueSink<T>): void {
    this.laneDone(off, !sink.closed && !m.closed);
    if (m.again) m.onAvailable(); // a wake that arrived meanwhile (a publish from inside the sink)
  }


  /**
   * Marks slot `i` (offset `off`, tagged, its count already set) INFLIGHT for `consumer`: a new
   * generation, the ack-timeout epoch when `timed`, the counters, the journal. Returns the generation.
   */
  private hold(consumer: GroupMember<T>, off: number, i: number, timed: boolean): number {
    this.state[i] = INFLIGHT;
    const gen = ++this.genSeq;
    this.gens[i] = gen;
    this.owner[i] = consumer;
    if (timed && this.host.ackTimeoutMs !== Infinity) {
      this.epochs[i] = this.epoch;
      if (this.sweeper === null) this.startSweeper();
    } else this.epochs[i] = Infinity;
    consumer.held++;
    this.pending++;
    this.inflight++;
    this.delivered++;
    if (this.count[i] > 1) this.redelivered++;
    if (this.store !== undefined) this.store.group({ kind: 'deliver', group: this.name, offset: off, count: this.count[i] });
    return gen;
  }

  /** Generation of the last `takeRaw`. */
  rawGen = 0;
  /** Delivery count of the last claim. */
  private lastCount = 0;

  /**
   * Wakes members that can take a delivery (round robin), without recursion. Small on purpose:
   * every publish inlines it, and what is inlined counts against V8's budget for the publisher.
   */
  wake(): void {
    if (this.mayWake === true) this.wakeSlow();
  }

  /** `wake` when some member may be wakeable: wakes, then learns whether any still is (the outermost wake only). */
  private wakeSlow(): void {
    const ms0 = this.members;
    if (ms0.length === 1 && !this.waking) ms0[0].onAvailable(); // one member guards its own re-entrance
    else this.wakeAll();
    if (!this.waking) this.mayWake = this.wakeable();
  }

  private wakeable(): boolean {
    if (this.direct !== null) return true;
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) if (ms[i].wakeable()) return true;
    return false;
  }

  /** `wake` with several members, none or a wake under way. */
  private wakeAll(): void {
    if (this.waking) {
      this.wakeAgain = true;
      return;
    }
    this.waking = true;
    try {
      do {
        this.wakeAgain = false;
        const ms = this.members;
        const n = ms.length;
        if (n === 1) ms[0].onAvailable();
        else if (n > 1) {
          const start = this.rr++ % n;
          for (let k = 0; k < n && k < ms.length; k++) ms[(start + k) % ms.length].onAvailable();
        }
      } while (this.wakeAgain);
    } finally {
      this.waking = false;
    }
  }

  join(consumer: GroupMember<T>): void {
    this.members.push(consumer);
    this.updateDirect();
  }

  /** A member leaves; `keep`: what it handed downstream stays held (see `disown`), but `unseen`. */
  leave(consumer: GroupMember<T>, keep = false, unseen = -1): void {
    const i = this.members.indexOf(consumer);
    if (i >= 0) this.members.splice(i, 1);
    this.updateDirect();
    if (keep) this.disown(consumer, unseen);
    else this.returnAll(consumer);
    if (!this.durable && this.members.length === 0) this.host.dropPrivate(this);
    else this.wake();
  }
}
