import type { SchedulerLike, Subscription } from 'rxjs';
import type { StoredGroup } from '../../../storage.js';
import { type GroupJournal, type Journal, NO_GROUP_JOURNAL } from '../journal.js';
import type { GroupStats, Headers } from '../../../types.js';
import { bornDouble, bornMutable } from '../hot/born.js';
import { NumHeap } from '../heap.js';
import type { Ring } from '../ring.js';
import { KeyOrder } from './key-order.js';
import { LevelQueues } from './levels.js';
import { type DeadLetterReason, FRESH, type GroupMember, INFLIGHT, SETTLED } from './group-types.js';

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
  /** Where the topic's changes go: a store's journal once open, else one that records nothing. */
  readonly journal: Journal;
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
  dropPrivate(group: GroupState<T>): void;
}

/** `GroupState.lane` while the lane hand-off under way was made stale by a seek. */
export const STALE_LANE = -2;

/**
 * The state of a consumer group, which every part of it reads and writes: the cursor (`next`),
 * the committed offset (`committed`), a window of per-slot state (struct-of-arrays, tagged by
 * offset, so a slot reused by a later offset reads as FRESH), the lone run, the redelivery heaps,
 * the members, and the counters; with the slot primitives every part shares. It wakes nobody and
 * starts no timer: the parts that do are given what they call ({@link Group} wires them).
 */
export class GroupState<T> {
  readonly name: string;
  readonly durable: boolean;
  readonly host: GroupHost<T>;
  /** Where this group's changes go: the store's, for a durable group of a durable topic once open; else one that records nothing. */
  journal: GroupJournal;
  committed: number;
  next: number;
  pending = 0;
  /**
   * The offset in the synchronous downstream of a lane hand-off (no slot state: see
   * `Take.laneOffset`), -1 when there is none, or {@link STALE_LANE} when a seek made the one
   * under way stale: its end then settles nothing, and no other lane opens before it ends.
   */
  lane = -1;
  members: GroupMember<T>[] = [];
  /** The one member, when it has a plain sink (a `values()` face's, or a `messages()` face's): publishes may hand straight to it. */
  direct: GroupMember<T> | null = null;
  /**
   * False only when no member would do anything on a wake (none busy handing out, none with a
   * `recv` waiting, none with a face attached: `GroupMember.wakeable`), so a publish skips the
   * wake in one compare. Set by whatever makes a member wakeable and computed again after each
   * wake (see `Members.wake`).
   */
  mayWake = false;

  mask: number;
  tag: Float64Array;
  state: Uint8Array;
  count: Uint32Array;
  gens: Float64Array;
  epochs: Float64Array;
  owner: (GroupMember<T> | null)[];
  /** Returned offsets waiting for redelivery (key: offset), and first deliveries passed while not due (key: `Infinity`). */
  readonly redeliver = new NumHeap();
  /** Nacked offsets waiting out their delay (key: when). */
  readonly delayed = new NumHeap();
  /** With priorities: first deliveries the cursor passed, waiting by level (see `Take.readyFromLevels`). */
  readonly lq: LevelQueues | null;
  /** With `ordering: 'key'`: the keys in flight in this group. */
  readonly ko: KeyOrder | null;
  /** Deliveries held in slot state (the lone run counts itself). */
  inflight = 0;
  /** The generation of the last claim: a delivery is valid while its slot holds its generation. */
  genSeq = 0;
  /** Ack timeouts: a delivery stamped with epoch e times out at the sweep making the epoch e + 5 (see `Timers`). */
  epoch = 0;
  /** The pending ack-timeout sweep, null when none. */
  sweeper: Subscription | null = null;

  /**
   * The lone run: `[runStart, runEnd)`, deliveries of never-delivered messages that one member took
   * in a row from a caught-up group and holds unsettled, kept in these fields instead of slot
   * state (`runStart` is -1 when there is none). It is the pull faces' common case — take one,
   * settle it, take the next; or take a batch, settle it in order — and it needs no slot state
   * at all. Every delivery of the run is INFLIGHT for `runOwner`, delivery count 1, generation
   * `runGen`, ack-timeout epoch `runEpoch`. `committed` stays on `runStart` and the run's slots
   * read FRESH: like the lane, {@link passSettled} stops at it. Only the fresh takes
   * (`takeFresh`, `takeBatch`) and the `messages()` hand-offs start (at `committed === next`) or
   * grow (the same member) a run; a sweep, the only thing that moves the epoch, writes the run
   * out first, so its epoch stays current; the ack of its first delivery and a `commit` past its
   * end settle it as it is; everything else that reads or writes slot state in it writes the run
   * out first ({@link solidify}).
   *
   * A run acked to its end stays as an empty run: `runStart` is -1 but `runEnd` (the cursor, and
   * the committed offset) and `runOwner` remain, so that owner's next take at `runEnd` starts the
   * run again with its generation and epoch, no claim at all (a channel's receiver takes one,
   * acks it, takes the next: its run is one message long). That is sound while nothing else
   * happened: a take by anyone else moves the cursor (or starts a run of its own), and everything
   * that could bring the cursor back or move the epoch (a seek, a commit, a sweep, a member
   * leaving) ends the empty run in {@link solidify}. No delivery is ever valid twice: the offsets
   * the run starts again at were never in it.
   *
   * The run keeps its own counts: `pending` and `inflight` leave out its live deliveries
   * (`runEnd - runStart`), and `delivered` and `acked` what it handed out and had acked since it
   * started at `runBase` (`runEnd - runBase`; acked: up to `runStart`, or all of it once empty),
   * so that a take that grows it and an ack of its first delivery move no counter but the
   * member's `held`. {@link solidify} adds them in; {@link stats} and {@link drained} count them.
   */
  runStart = -1;
  runEnd = -1;
  runGen = 0;
  runOwner: GroupMember<T> | null = null;
  runEpoch = 0;
  /** Where the run's counting began (see `runStart`): kept across an emptied run started again. */
  runBase = 0;

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
    this.journal = durable ? host.journal.forGroup(name) : NO_GROUP_JOURNAL;
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
    bornDouble(this, 'pending', 'inflight', 'delivered', 'acked');
    bornMutable(this, 'mayWake');
  }

  /** The topic is closed and this group has nothing left to deliver or settle. */
  get drained(): boolean {
    return this.host.closed && this.pending === 0 && this.runStart === -1 && this.lane < 0 && this.next >= this.host.ring.tail;
  }

  /** The state of `offset`'s slot (FRESH when the slot holds another offset). */
  st(offset: number): number {
    const i = offset & this.mask;
    return this.tag[i] === offset ? this.state[i] : FRESH;
  }

  /** Sets `offset`'s slot to `state` (a slot taken over from another offset starts with no count and no owner). */
  set(offset: number, state: number): number {
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
  solidify(): void {
    if (this.runEnd === -1) return; // no run, not even an empty one
    const handed = this.runEnd - this.runBase;
    this.delivered += handed;
    if (this.runStart === -1) {
      this.acked += handed; // an empty run (see `runStart`) ends too: all it handed out was acked
      this.runEnd = -1;
      this.runOwner = null;
      return;
    }
    const live = this.runEnd - this.runStart;
    this.acked += handed - live;
    this.pending += live;
    this.inflight += live;
    const { tag, count, state, gens, owner, epochs, mask } = this;
    const gen = this.runGen;
    const o = this.runOwner;
    const epoch = this.runEpoch;
    for (let off = this.runStart; off < this.runEnd; off++) {
      const i = off & mask;
      tag[i] = off;
      count[i] = 1;
      state[i] = INFLIGHT;
      gens[i] = gen;
      owner[i] = o;
      epochs[i] = epoch;
    }
    this.runStart = -1;
    this.runEnd = -1;
    this.runOwner = null;
  }

  /**
   * Starts the lone run `[start, end)` for `owner` (see `runStart`), counting from `start`; an
   * emptied run of another member ends first (its counts). The publish hand-offs write the same
   * inline (hot/publish.ts).
   */
  startRun(start: number, end: number, gen: number, owner: GroupMember<T>, epoch: number): void {
    this.solidify();
    this.runStart = start;
    this.runEnd = end;
    this.runGen = gen;
    this.runOwner = owner;
    this.runEpoch = epoch;
    this.runBase = start;
  }

  /** Whether `off` is in the lone run. */
  inRun(off: number): boolean {
    return this.runStart !== -1 && off >= this.runStart && off < this.runEnd;
  }

  /** True while the delivery `(offset, gen)` is the one holding the message. */
  holds(offset: number, gen: number): boolean {
    if (this.inRun(offset)) return gen === this.runGen;
    const i = offset & this.mask;
    return offset >= this.committed && this.tag[i] === offset && this.state[i] === INFLIGHT && this.gens[i] === gen;
  }

  /** Slot `i` is no longer held by its owner. */
  release(i: number): void {
    const owner = this.owner[i];
    this.owner[i] = null;
    this.inflight--;
    if (owner !== null) owner.held--;
  }

  /**
   * Moves the committed offset past settled offsets (FRESH below the cursor counts as settled:
   * handed out and settled without slot state), but never past the offset a lane hand-off or the
   * lone run still holds.
   */
  passSettled(): void {
    while (this.committed < this.next) {
      const s = this.st(this.committed);
      if (s !== SETTLED && (s !== FRESH || this.committed === this.lane || this.committed === this.runStart)) break;
      this.committed++;
    }
  }

  /** A WAITING offset never handed out goes out as a first delivery: after redeliveries, by level, in offset order. */
  requeue(off: number): void {
    if (this.lq === null) this.redeliver.push(Infinity, off);
    else this.lq.push(this.levelAt(off), off);
  }

  /** The priority level of the retained message at `off` (a topic with priorities). */
  levelAt(off: number): number {
    return (this.host.levelOf as Uint8Array)[off & this.host.ring.mask];
  }

  /** Something may be ready to hand out. */
  hasAvailable(): boolean {
    return this.redeliver.size > 0 || this.next < this.host.ring.tail || (this.lq !== null && this.lq.queued !== 0);
  }

  /** How many messages lie past the cursor (an upper bound on what a take can claim now). */
  backlog(): number {
    return this.host.ring.tail - this.next;
  }

  /**
   * The topic's store opened after this group was made (nothing was retained nor delivered
   * meanwhile): the group starts at `start` and journals to `journal` when durable.
   */
  reopen(start: number, journal: Journal): void {
    this.committed = start;
    this.next = start;
    this.runBase = start;
    if (this.durable) this.journal = journal.forGroup(this.name);
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
    // the lone run's counts (see `runStart`)
    const handed = this.runEnd === -1 ? 0 : this.runEnd - this.runBase;
    const live = this.runStart === -1 ? 0 : this.runEnd - this.runStart;
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
