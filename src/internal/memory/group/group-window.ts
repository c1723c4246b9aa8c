import type { SchedulerLike } from 'rxjs';
import type { StoredGroup, TopicStore } from '../../../storage.js';
import type { GroupStats, Headers } from '../../../types.js';
import { NumHeap } from '../heap.js';
import { KeyOrder } from './key-order.js';
import { LevelQueues } from './levels.js';
import type { Ring } from '../ring.js';
import { DEAD, type DeadLetterReason, FRESH, type GroupMember, INFLIGHT, SETTLED, WAITING } from './group-types.js';

/** What a group needs from its topic. */
export interface GroupHost<T> {
  readonly name: string;
  readonly ring: Ring<T>;
  readonly scheduler: SchedulerLike;
  readonly ackTimeoutMs: number;
  readonly maxDeliveries: number;
  readonly closed: boolean;
  /** With a codec: decodes a retained frame into a fresh value (throws CodecError). */
  readonly decode: ((bytes: unknown) => T) | undefined;
  /** The durable side of the topic, once open. */
  readonly store: TopicStore | undefined;
  /** True while the topic's storage opens it (see {@link whenOpen}). */
  readonly opening: boolean;
  /** Runs `run` once the topic's store is open (at once when it is), after everything asked before. */
  whenOpen(run: () => void): void;
  /** True while some retained message has a TTL. */
  readonly ttlActive: boolean;
  /** Expires messages whose time has come, releases delayed messages that came due (cheap when nothing is due). */
  expireDue(): void;
  /** How many retained messages are delayed and not yet due. */
  readonly delayed: number;
  /** True while the message at `offset` is delayed and not yet due (only asked while `delayed` is not 0). */
  notDue(offset: number): boolean;
  /** Priority levels (1: none). */
  readonly levelCount: number;
  /** Fair queuing across levels (`Infinity`: strict). */
  readonly maxConsecutive: number;
  /** With priorities: each retained message's level, by ring slot. */
  readonly levelOf: Uint8Array | undefined;
  /** A message of `level` was handed out as a first delivery. */
  firstDelivered(level: number): void;
  /** `ordering: 'key'`. */
  readonly ordered: boolean;
  /** Routes a dead letter; true when done synchronously, else a promise that settles when done. */
  deadLetter(group: string, offset: number, reason: DeadLetterReason, detail: string | undefined, deliveries: number, value: T, key: string | undefined, headers: Headers): true | Promise<unknown>;
  /** The group's committed offset moved up to `committed`: room may have been made. */
  released(committed: number): void;
  /** The group's committed offset moved down (a seek). */
  committedLowered(committed: number): void;
  /** A member found nothing to take: admits waiting publishers if there is any room; true when something was. */
  refill(): boolean;
  /** A private group lost its member. */
  dropPrivate(group: GroupWindow<T>): void;
}

/** `GroupWindow.lane` while the lane hand-off under way was made stale by a seek. */
export const STALE_LANE = -2;

/**
 * The state half of a consumer group: the cursor (`next`), the committed offset (`committed`, as the public API names it)
 * offset), a window of per-slot state (struct-of-arrays, tagged by offset, so a slot reused by a
 * later offset reads as FRESH), the redelivery heaps, the counters, and the operations that move
 * positions (commit, seek, clamping to the ring's head, recovery). {@link Group} adds delivery.
 */
export abstract class GroupWindow<T> {
  readonly name: string;
  readonly durable: boolean;
  readonly host: GroupHost<T>;
  /** The topic's store, for a durable group of a durable topic (set once the store is open). */
  protected store: TopicStore | undefined;
  committed: number;
  next: number;
  pending = 0;
  /**
   * The offset in the synchronous downstream of a lane hand-off (no slot state; see
   * `Group.laneOffset`), -1 when there is none, or {@link STALE_LANE} when a seek made the one
   * under way stale: its end then settles nothing, and no other lane opens before it ends.
   */
  lane = -1;
  members: GroupMember<T>[] = [];

  protected mask: number;
  protected tag: Float64Array;
  protected state: Uint8Array;
  protected count: Uint32Array;
  protected gens: Float64Array;
  protected epochs: Float64Array;
  protected owner: (GroupMember<T> | null)[];
  protected readonly redeliver = new NumHeap();
  protected readonly delayed = new NumHeap();
  /** With priorities: first deliveries the cursor passed, waiting by level (see `Group.takeLeveled`). */
  protected readonly lq: LevelQueues | null;
  /** With `ordering: 'key'`: the keys in flight in this group. */
  protected readonly ko: KeyOrder | null;
  /** Ack timeouts: a sweep every `ackTimeoutMs / 4` while deliveries are held; a delivery stamped with epoch e times out at the sweep making the epoch e + 5. */
  protected inflight = 0;

  /**
   * The lone run: `[solo, soloEnd)`, deliveries of never-delivered messages that one member took
   * in a row from a caught-up group and holds unsettled, kept in these fields instead of slot state
   * (`solo` is -1 when there is none). It is the pull faces' common case — take one, settle it,
   * take the next; or take a batch (or fill a stream's queue), settle it in order — and claiming
   * through six slot columns to read them back at the settle was a fifth of a `channel` round trip.
   * Every delivery of the run is INFLIGHT for `soloOwner`, delivery count 1, generation `soloGen`,
   * ack-timeout epoch `soloEpoch`. `committed` stays on `solo` and the run's slots read FRESH: like the
   * lane, {@link passSettled} stops at it. Only `Group.takeFresh`, `Group.takeRun` and the
   * `messages()` hand-offs start (at `committed === next`) or extend (the same member) a run; a sweep,
   * the only thing that moves the epoch, writes the run out first, so its epoch stays current;
   * `ack` of its first delivery and a `commit` past its end settle it as it is; everything else
   * that reads or writes slot state in it writes the run out first ({@link solidify}).
   *
   * A run acked to its end stays as an empty run: `solo` is -1 but `soloEnd` (the cursor, and the
   * committed) and `soloOwner` remain, so that owner's next take at `soloEnd` starts the run again
   * with its generation and epoch, no claim at all (a channel's receiver takes one, acks it, takes
   * the next: its run is one message long). That is sound while nothing else happened: a take by
   * anyone else moves the cursor (or starts a run of its own), and everything that could bring the
   * cursor back or move the epoch (a seek, a commit, a sweep, a member leaving) ends the empty run
   * in {@link solidify}. No delivery is ever valid twice: the offsets the run starts again at were never in it.
   *
   * The run keeps its own counts: `pending` and `inflight` leave out its live deliveries
   * (`soloEnd - solo`), and `delivered` and `acked` what it handed out and had acked since it
   * started at `runBase` (`soloEnd - runBase`; acked: up to `solo`, or all of it once empty), so
   * that a take that grows it and an ack of its first delivery move no counter but the member's
   * `held`. {@link solidify} adds them in; {@link stats} and {@link drained} count them.
   */
  solo = -1;
  soloEnd = -1;
  /** @internal */ soloGen = 0;
  protected soloOwner: GroupMember<T> | null = null;
  protected soloEpoch = 0;
  /** Where the run's counting began (see `solo`): kept across an emptied run started again. */
  protected runBase = 0;

  /** Messages returned to the group so far (nack, ack timeout, a member leaving). */
  returns = 0;
  delivered = 0;
  acked = 0;
  nacked = 0;
  redelivered = 0;
  deadLettered = 0;
  missed = 0;
  filtered = 0;
  expired = 0;

  constructor(host: GroupHost<T>, name: string, durable: boolean, start: number) {
    this.host = host;
    this.name = name;
    this.durable = durable;
    this.committed = start;
    this.next = start;
    this.store = durable ? host.store : undefined;
    this.lq = host.levelCount > 1 ? new LevelQueues(host.levelCount, host.maxConsecutive) : null;
    this.ko = host.ordered ? new KeyOrder() : null;
    const slots = host.ring.slots;
    this.mask = slots - 1;
    this.tag = new Float64Array(slots).fill(-1);
    this.state = new Uint8Array(slots);
    this.count = new Uint32Array(slots);
    this.gens = new Float64Array(slots);
    this.epochs = new Float64Array(slots);
    this.owner = new Array(slots).fill(null);
    // Born double: the counters every take and settle moves are kept as doubles (a box V8 updates
    // in place), not small integers (untag, add, overflow check, retag on every change). A
    // field's representation only ever widens, so a
    // fraction written once in the constructor fixes it before any code is optimized.
    this.pending = 0.5;
    this.pending = 0;
    this.inflight = 0.5;
    this.inflight = 0;
    this.delivered = 0.5;
    this.delivered = 0;
    this.acked = 0.5;
    this.acked = 0;
  }

  /** The topic is closed and this group has nothing left to deliver or settle. */
  get drained(): boolean {
    return this.host.closed && this.pending === 0 && this.solo === -1 && this.lane < 0 && this.next >= this.host.ring.tail;
  }

  /** Wakes members that can take a delivery. */
  abstract wake(): void;

  protected st(offset: number): number {
    const i = offset & this.mask;
    return this.tag[i] === offset ? this.state[i] : FRESH;
  }

  protected set(offset: number, state: number): number {
    const i = offset & this.mask;
    if (this.tag[i] !== offset) {
      this.tag[i] = offset;
      this.count[i] = 0;
      this.owner[i] = null;
    }
    this.state[i] = state;
    return i;
  }

  /** Writes the lone run (if any) into slot state: INFLIGHT for its owner, as any other claim. */
  protected solidify(): void {
    if (this.soloEnd === -1) return; // no run, not even an empty one
    const handed = this.soloEnd - this.runBase;
    this.delivered += handed;
    if (this.solo === -1) {
      this.acked += handed; // an empty run (see `solo`) ends too: all it handed out was acked
      this.soloEnd = -1;
      this.soloOwner = null;
      return;
    }
    const live = this.soloEnd - this.solo;
    this.acked += handed - live;
    this.pending += live;
    this.inflight += live;
    const { tag, count, state, gens, owner, epochs, mask } = this;
    const gen = this.soloGen;
    const o = this.soloOwner;
    const epoch = this.soloEpoch;
    for (let off = this.solo; off < this.soloEnd; off++) {
      const i = off & mask;
      tag[i] = off;
      count[i] = 1;
      state[i] = INFLIGHT;
      gens[i] = gen;
      owner[i] = o;
      epochs[i] = epoch;
    }
    this.solo = -1;
    this.soloEnd = -1;
    this.soloOwner = null;
  }

  /**
   * Starts the lone run `[start, end)` for `owner` (see `solo`), counting from `start`; an emptied
   * run of another member ends first (its counts). `Group.pushDelivery` and `Group.fanOut` write
   * the same out inline (twins: keep them in step).
   */
  protected startRun(start: number, end: number, gen: number, owner: GroupMember<T>, epoch: number): void {
    this.solidify();
    this.solo = start;
    this.soloEnd = end;
    this.soloGen = gen;
    this.soloOwner = owner;
    this.soloEpoch = epoch;
    this.runBase = start;
  }

  /** Whether `off` is in the lone run. */
  protected inRun(off: number): boolean {
    return this.solo !== -1 && off >= this.solo && off < this.soloEnd;
  }

  /** True while the delivery `(offset, gen)` is the one holding the message. */
  holds(offset: number, gen: number): boolean {
    if (this.inRun(offset)) return gen === this.soloGen;
    const i = offset & this.mask;
    return offset >= this.committed && this.tag[i] === offset && this.state[i] === INFLIGHT && this.gens[i] === gen;
  }

  protected release(i: number): void {
    const owner = this.owner[i];
    this.owner[i] = null;
    this.inflight--;
    if (owner !== null) owner.held--;
  }

  protected advanceCommitted(): void {
    const before = this.committed;
    this.passSettled();
    if (this.committed !== before) this.host.released(this.committed);
    if (this.host.closed) this.checkDrained();
  }

  /**
   * Moves the committed offset past settled offsets (FRESH below the cursor counts as settled: handed out
   * and settled without slot state), but never past the offset a lane hand-off still holds.
   */
  protected passSettled(): void {
    while (this.committed < this.next) {
      const s = this.st(this.committed);
      if (s !== SETTLED && (s !== FRESH || this.committed === this.lane || this.committed === this.solo)) break;
      this.committed++;
    }
  }

  /** Called on a settle once the topic is closed (small: the ack paths inline it). */
  protected checkDrained(): void {
    if (this.drained) this.finished();
  }

  /** The topic is closed and this group has nothing left: its timers stop, its members learn it. */
  private finished(): void {
    this.idle();
    this.wake();
  }

  /** Stops the group's timers that have nothing to do (nothing held, nothing delayed). */
  abstract idle(): void;

  /**
   * The ring's head moved past `head` (eviction or expiry): everything below is gone for this
   * group. Unsettled messages count as missed when `missed` (drop-oldest).
   */
  clampTo(head: number, missed: boolean): void {
    if (this.committed >= head) return;
    this.solidify();
    const end = Math.min(head, this.next);
    for (let off = this.committed; off < end; off++) {
      const i = off & this.mask;
      if (this.tag[i] !== off) {
        continue;
      }
      const s = this.state[i];
      if (s === INFLIGHT || s === WAITING || s === DEAD) {
        if (s === INFLIGHT) this.release(i);
        this.pending--;
        if (s !== DEAD) {
          if (missed) this.missed++;
          else this.expired++;
        }
        this.state[i] = SETTLED;
      }
    }
    const unreached = Math.max(0, head - Math.max(this.next, this.committed));
    if (missed) this.missed += unreached;
    else this.expired += unreached;
    this.committed = head;
    if (this.next < head) this.next = head;
    this.advanceCommitted();
    if (this.ko !== null) this.keysPassed();
  }

  /**
   * The delayed message at `off` came due. If the cursor passed it while it waited, it goes out
   * next as a first delivery: after the redeliveries, in offset order (key `Infinity` in the heap
   * sorts after every redelivery's offset key; ties go by offset). Otherwise the cursor gets to it.
   */
  cameDue(off: number): void {
    if (off < this.committed || off >= this.next || this.st(off) !== WAITING) return;
    this.requeue(off);
  }

  /** A WAITING offset never handed out goes out as a first delivery: after redeliveries, by level, in offset order. */
  protected requeue(off: number): void {
    if (this.lq === null) this.redeliver.push(Infinity, off);
    else this.lq.push(this.levelAt(off), off);
  }

  /**
   * `ordering: 'key'`: true when `off` may go out now (no key, its key free, or already held by
   * it). Otherwise it waits (WAITING) for the message of its key in flight; the caller leaves it.
   */
  protected keyFree(off: number): boolean {
    const ring = this.host.ring;
    const key = ring.keys[off & ring.mask];
    if (key === undefined || (this.ko as KeyOrder).claim(key, off)) return true;
    (this.ko as KeyOrder).wait(key, off);
    return false;
  }

  private readonly stillWaiting = (off: number): boolean => off >= this.committed && this.st(off) === WAITING;

  /** `ordering: 'key'`: `off` no longer holds its key (settled, dead-lettered): the next waiting message of the key goes out. */
  protected keyReleased(off: number): void {
    const next = (this.ko as KeyOrder).release(off, this.stillWaiting);
    if (next >= 0) {
      this.requeue(next);
      this.wake();
    }
  }

  /** `ordering: 'key'`: after a commit, clamp or drop, every key held by an offset that was settled is released. */
  protected keysPassed(): void {
    for (const off of (this.ko as KeyOrder).held()) {
      const s = this.st(off);
      if (off < this.committed || s === SETTLED || s === FRESH || s === DEAD) this.keyReleased(off);
    }
  }

  /** The priority level of the retained message at `off` (a topic with priorities). */
  protected levelAt(off: number): number {
    return (this.host.levelOf as Uint8Array)[off & this.host.ring.mask];
  }

  /** Drop-oldest evicts `off` (the head) while this group may still need it. */
  dropped(off: number, live: boolean): void {
    if (off < this.committed) return;
    this.solidify();
    const s = this.st(off);
    if (s === SETTLED) return;
    if (live || s !== FRESH) this.missed++;
    if (s === INFLIGHT || s === WAITING || s === DEAD) {
      if (s === INFLIGHT) this.release(off & this.mask);
      this.pending--;
    }
    this.set(off, SETTLED);
    if (this.next <= off) this.next = off + 1;
    if (off === this.committed) this.advanceCommitted();
    if (this.ko !== null) this.keysPassed();
  }

  /** Settles everything below `offset` (monotonic: a lower offset is a no-op). */
  commit(offset: number): void {
    const ring = this.host.ring;
    const to = Math.min(offset, ring.tail);
    if (to <= this.committed) return;
    let from = this.committed;
    if (this.solo !== -1) {
      if (to >= this.soloEnd) {
        // the whole lone run at once: nothing of it is in slot state, nor in `pending` and `inflight`
        const handed = this.soloEnd - this.runBase;
        (this.soloOwner as GroupMember<T>).held -= this.soloEnd - this.solo;
        this.delivered += handed;
        this.acked += handed;
        from = this.soloEnd;
        this.solo = -1;
        this.soloEnd = -1;
        this.soloOwner = null;
      } else this.solidify();
    } else this.solidify(); // an empty run ends
    const { tag, state, owner, mask } = this;
    const live = ring.live;
    const rmask = ring.mask;
    // counted in locals, written once: a batch settle walks a run of slots held by one member
    let acked = 0;
    let settled = 0;
    let released = 0;
    let holder: GroupMember<T> | null = null;
    let held = 0;
    for (let off = from; off < to; off++) {
      const i = off & mask;
      const s = tag[i] === off ? state[i] : FRESH;
      if (s === SETTLED) continue;
      if (s === FRESH) {
        // never delivered (at or past the cursor): committing past it acks it (or it had expired)
        if (off >= this.next) {
          if (live[off & rmask] === 1) acked++;
          else this.expired++;
        }
        continue;
      }
      if (s === INFLIGHT) {
        const o = owner[i];
        owner[i] = null;
        released++;
        if (o !== holder) {
          if (holder !== null) holder.held -= held;
          holder = o;
          held = 0;
        }
        held++;
      }
      if (s !== DEAD) acked++;
      settled++;
      state[i] = SETTLED;
    }
    if (holder !== null) holder.held -= held;
    this.acked += acked;
    this.pending -= settled;
    this.inflight -= released;
    this.committed = to;
    if (this.next < to) this.next = to;
    if (this.store !== undefined) this.store.group({ kind: 'commit', group: this.name, offset: to });
    this.advanceCommitted();
    if (this.ko !== null) this.keysPassed();
    this.host.released(this.committed);
    this.wakeOwners();
  }

  /** Moves the next delivery to `offset` (clamped to what is retained); every outstanding delivery becomes stale. */
  seek(offset: number): void {
    this.solidify();
    const ring = this.host.ring;
    const to = Math.max(ring.head, Math.min(offset, ring.tail));
    const from = Math.min(this.committed, to);
    const end = Math.max(this.next, to);
    for (let off = from; off < end; off++) {
      const i = off & this.mask;
      const s = this.tag[i] === off ? this.state[i] : FRESH;
      if (off < to && off >= this.committed && s !== SETTLED && s !== DEAD && (s !== FRESH || off >= this.next)) {
        if (ring.isLive(off)) this.missed++;
        else this.expired++; // expired before the group settled it
      }
      if (this.tag[i] === off) {
        if (s === INFLIGHT) this.release(i);
        this.tag[i] = -1;
        this.owner[i] = null;
      }
    }
    this.pending = 0;
    this.redeliver.clear();
    this.delayed.clear();
    this.lq?.clear();
    this.ko?.clear();
    // a lane hand-off under way is outstanding too: once the committed offset is back on its offset, a
    // member may take that offset again, and the lane's end must not settle the new delivery
    if (this.lane !== -1) this.lane = STALE_LANE;
    this.committed = to;
    this.next = to;
    this.host.committedLowered(to);
    if (this.store !== undefined) this.store.group({ kind: 'seek', group: this.name, offset: to });
    this.host.released(this.committed);
    this.wakeOwners();
    this.wake();
  }

  protected wakeOwners(): void {
    const ms = this.members;
    if (ms.length === 1) ms[0].onAvailable();
    else for (const m of ms.slice()) if (!m.closed) m.onAvailable();
  }

  /**
   * The group was deleted: every delivery it handed out becomes stale and nothing is returned,
   * redelivered or dead-lettered. Its members are closing (they take nothing more).
   */
  drop(): void {
    this.tag.fill(-1);
    this.owner.fill(null);
    for (const m of this.members) m.held = 0;
    this.solo = -1;
    this.soloEnd = -1;
    this.soloOwner = null;
    this.pending = 0;
    this.inflight = 0;
    this.redeliver.clear();
    this.delayed.clear();
    this.lq?.clear();
    this.ko?.clear();
    if (this.lane !== -1) this.lane = STALE_LANE;
  }

  /**
   * The topic's store opened after this group was made (nothing was retained nor delivered
   * meanwhile): the group starts at `start` and journals to `store` when durable.
   */
  reopen(start: number, store: TopicStore): void {
    this.committed = start;
    this.next = start;
    this.runBase = start;
    if (this.durable) this.store = store;
  }

  /** Recovery: marks what the store says was settled above the committed offset, and delivery counts. */
  restore(sg: StoredGroup): void {
    const tail = this.host.ring.tail;
    for (const off of sg.settled) if (off >= this.committed && off < tail) this.set(off, SETTLED);
    for (const [off, c] of sg.deliveries) {
      if (off < this.committed || off >= tail || this.st(off) !== FRESH) continue;
      const i = this.set(off, FRESH);
      this.count[i] = c;
    }
    while (this.committed < tail && this.st(this.committed) === SETTLED) this.committed++;
    this.next = this.committed;
  }

  /** The ring was re-laid into `slots` slots: re-lay the window too. */
  resize(slots: number): void {
    this.solidify();
    const mask = slots - 1;
    const tag = new Float64Array(slots).fill(-1);
    const state = new Uint8Array(slots);
    const count = new Uint32Array(slots);
    const gens = new Float64Array(slots);
    const epochs = new Float64Array(slots);
    const owner = new Array<GroupMember<T> | null>(slots).fill(null);
    const ring = this.host.ring;
    for (let off = Math.max(this.committed, ring.head); off < ring.tail; off++) {
      const a = off & this.mask;
      if (this.tag[a] !== off) continue;
      const b = off & mask;
      tag[b] = off;
      state[b] = this.state[a];
      count[b] = this.count[a];
      gens[b] = this.gens[a];
      epochs[b] = this.epochs[a];
      owner[b] = this.owner[a];
    }
    this.mask = mask;
    this.tag = tag;
    this.state = state;
    this.count = count;
    this.gens = gens;
    this.epochs = epochs;
    this.owner = owner;
  }

  stats(): GroupStats {
    const tail = this.host.ring.tail;
    // the lone run's counts (see `solo`)
    const handed = this.soloEnd === -1 ? 0 : this.soloEnd - this.runBase;
    const live = this.solo === -1 ? 0 : this.soloEnd - this.solo;
    return {
      members: this.members.length,
      next: this.next,
      committed: this.committed,
      pending: this.pending + live + (this.lane < 0 ? 0 : 1),
      lag: tail - this.committed,
      delivered: this.delivered + handed,
      acked: this.acked + handed - live,
      nacked: this.nacked,
      redelivered: this.redelivered,
      deadLettered: this.deadLettered,
      missed: this.missed,
      filtered: this.filtered,
      expired: this.expired,
      durable: this.durable,
    };
  }
}
