import type { SchedulerLike } from 'rxjs';
import { ClosedError, TopicFullError } from '../../errors.js';
import type { OverflowPolicy } from '../../types.js';
import { Clock } from './clock.js';
import type { Delays } from './delays.js';
import type { Expiry } from './expiry.js';
import { type Journal, NO_JOURNAL } from './journal.js';
import type { Group } from './group/group.js';
import { type OverflowHost, type OverflowStrategy, strategyFor } from './overflow.js';
import type { PublishQueue } from './publish-queue.js';
import { pow2AtLeast, Ring } from './ring.js';
import { noCodecError, TopicCodec } from './topic-codec.js';
import { bornDouble, bornMutable } from './hot/born.js';
import { checkPriority, type PublishSettings, type TopicSettings } from '../topic-options.js';

/** Slots a ring starts with (or fewer, for a smaller capacity). */
const INITIAL_SLOTS = 1024;

/** The settings of a publish that gives none. */
export const NO_PUBLISH: PublishSettings = Object.freeze({ key: undefined, headers: undefined, ttlMs: Infinity, signal: undefined, codec: undefined, compression: undefined, delayMs: 0, deliverAt: 0, priority: -1 });

/**
 * The collaborators of a log that call back into its parts (the TTL timer's expiry, admission
 * of waiting publishers, what the overflow strategy acts on): made by the topic (topic.ts),
 * which knows the parts, and passed in so that the state imports none of them.
 */
export interface LogWiring<T> {
  expiry(log: LogState<T>): Expiry<T>;
  queue(log: LogState<T>): PublishQueue<T>;
  room(log: LogState<T>): OverflowHost;
}

/**
 * The state of a topic's log, which every part of it reads and writes: the ring, the counters,
 * the priority levels, the delayed messages, the retention marks and the flags the fast paths
 * read (`lean`, `ttlActive`), with the queries that only read it. It calls no part: the parts are
 * modules of functions over it (log-retention.ts, log-delays.ts, log-append.ts, log-publish.ts),
 * and the topic (topic.ts) gives it the collaborators that call back into them ({@link LogWiring}).
 */
export class LogState<T> {
  readonly name: string;
  readonly settings: TopicSettings;
  readonly scheduler: SchedulerLike;
  ring: Ring<T>;
  capacity: number;
  closed = false;
  published = 0;
  rejected = 0;
  dropped = 0;
  expired = 0;
  /** The part of `expired` below every group's committed offset (only kept for replay). */
  agedOut = 0;
  /** With a codec: encodes at publish, decodes per consumer. */
  readonly codec: TopicCodec<T> | undefined;
  readonly strategy: OverflowStrategy;
  /** @internal (LeanLog) */
  groupList: Group<T>[] = [];
  /** The TTL index. */
  readonly expiry: Expiry<T>;
  /** Publishers waiting for room. */
  readonly queue: PublishQueue<T>;
  /** What the overflow strategy acts on (log-retention.ts). */
  readonly room: OverflowHost;
  /** @internal (LeanLog) */
  readonly clock: Clock;
  readonly ttlMs: number;
  /**
   * Where the changes a storage must know go: {@link NO_JOURNAL} until the topic's storage has
   * opened it (durable/journal.ts), and for good without one.
   */
  journal: Journal;
  /** True when the topic has a storage (open or still opening). */
  readonly persistent: boolean;
  /**
   * True while the storage opens the topic: publishes, commits and seeks wait in {@link waiting},
   * run in order once recovery is applied (or refused, when the store could not open).
   */
  opening = false;
  /** What waits for the store to open (see {@link whenOpen}). */
  readonly waiting: (() => void)[] = [];
  /** @internal (GroupHost) Runs `run` once the store is open (or could not open), after everything asked before it. */
  whenOpen(run: () => void): void {
    if (this.opening) this.waiting.push(run);
    else run();
  }

  /** The store is open and recovery applied (or it could not open): runs what waited, in order. */
  opened(): void {
    this.opening = false;
    for (const run of this.waiting.splice(0)) run();
  }

  /**
   * Resolves once everything the topic accepted so far is as durable as a resolved `publish()`
   * (at once without a storage; once open and synced while the store opens).
   */
  synced(): Promise<void> {
    if (!this.opening) return this.journal.sync();
    return new Promise<void>((resolve) => this.whenOpen(() => resolve(this.synced())));
  }

  /** Why the store could not open: every publish rejects with it. */
  openError: Error | undefined = undefined;
  /** A codec or a storage: `publish` and `publishBatch` take the checked path. */
  readonly checked: boolean;
  /** No codec, no store, no topic TTL, not closed: `appendLean` applies to publishes without options. */
  lean: boolean;
  /**
   * The lean conditions but for the levels: a publish that gives only `priority` takes
   * `appendLeveled` on a topic with priorities, and `appendLean` on one without (its one valid
   * level, 0, asks for nothing).
   */
  leanRanked: boolean;
  /** The settings of a `tryPublish` that gives only `priority` (see `tryPublishSlow`). */
  readonly ranked: PublishSettings = { ...NO_PUBLISH };

  constructor(name: string, settings: TopicSettings, wiring: LogWiring<T>) {
    this.name = name;
    this.settings = settings;
    this.scheduler = settings.scheduler;
    this.capacity = settings.capacity;
    // slots grow on demand (doubling) up to the capacity: a large capacity costs nothing up front
    this.ring = new Ring<T>(Math.min(pow2AtLeast(settings.capacity), INITIAL_SLOTS));
    this.strategy = strategyFor(settings.overflow, settings.capacity, settings.maxCapacity, settings.growthFactor, settings.shrinkThreshold);
    this.expiry = wiring.expiry(this);
    this.clock = new Clock(this.scheduler);
    this.queue = wiring.queue(this);
    this.room = wiring.room(this);
    this.ttlMs = settings.ttlMs;
    this.persistent = settings.storage !== undefined;
    this.journal = NO_JOURNAL;
    if (settings.codec !== undefined) this.codec = new TopicCodec<T>(settings.codec, settings.compression);
    this.checked = this.codec !== undefined || this.persistent;
    this.levelCount = settings.priorities;
    this.maxConsecutive = settings.maxConsecutive;
    this.defaultLevel = (settings.priorities - 1) >>> 1;
    if (settings.priorities > 1) {
      this.levelOf = new Uint8Array(this.ring.slots);
      this.levelPublished = new Float64Array(settings.priorities);
      this.levelDelivered = new Float64Array(settings.priorities);
    }
    this.ordered = settings.ordering === 'key';
    this.leanRanked = this.leanRankedPossible();
    this.lean = this.leanPossible();
    this.generalTake = this.levelOf !== undefined || this.ordered;
    this.syncTtlActive();
    // flags that flip in a topic's life, and a counter that grows past small integers
    bornMutable(this, 'closed', 'lean', 'leanRanked', 'ttlActive');
    if (this.persistent) bornMutable(this, 'journal');
    bornDouble(this, 'published');
  }

  /** True when `appendLean` may take publishes without options: nothing to encode, store, expire, delay or rank. */
  leanPossible(): boolean {
    return this.leanRankedPossible() && this.levelOf === undefined;
  }

  /** What {@link leanRanked} says: nothing to encode, store (so nothing opening), expire or delay, no key order, open. */
  leanRankedPossible(): boolean {
    return this.codec === undefined && !this.persistent && this.ttlMs === Infinity && !this.ordered && this.delayed === 0 && !this.closed;
  }

  /** @internal (GroupHost) `ordering: 'key'`. */
  readonly ordered: boolean;

  // ---- priority levels (`priorities` > 1) ----------------------------------------------------

  /** @internal (GroupHost) Priority levels: 1 when the topic has none. */
  readonly levelCount: number;
  /** @internal (GroupHost) */
  readonly maxConsecutive: number;
  /** The level of a publish that names none: the middle one. */
  readonly defaultLevel: number;
  /** @internal (GroupHost) With priorities: each retained message's level, by ring slot. */
  levelOf: Uint8Array | undefined = undefined;
  /** @internal (hot/append-lean.ts) Messages published, by level. */
  levelPublished: Float64Array | undefined = undefined;
  levelDelivered: Float64Array | undefined = undefined;
  /**
   * True while the take paths must look at every message (priorities, or a message delayed):
   * {@link ttlActive} turns the fast paths off.
   */
  generalTake = false;

  /** Refuses a `priority` outside the topic's levels (ConfigError). */
  checkLevel(s: PublishSettings, at?: string): void {
    if (s.priority >= this.levelCount) checkPriority(s, this.levelCount, at);
  }

  /** Records the level of the message just appended at `off`. */
  rank(off: number, priority: number): void {
    const level = priority < 0 ? this.defaultLevel : priority;
    (this.levelOf as Uint8Array)[off & this.ring.mask] = level;
    (this.levelPublished as Float64Array)[level]++;
  }

  /** @internal (GroupHost) A group handed out a message of `level` as a first delivery. */
  firstDelivered(level: number): void {
    (this.levelDelivered as Float64Array)[level]++;
  }

  /** `stats().priorities`: by level, retained, published, delivered; undefined without priorities. */
  levelStats(): { size: number; published: number; delivered: number }[] | undefined {
    const of = this.levelOf;
    if (of === undefined) return undefined;
    const ring = this.ring;
    const size = new Array<number>(this.levelCount).fill(0);
    for (let off = ring.head; off < ring.tail; off++) if (ring.isLive(off)) size[of[off & ring.mask]]++;
    return size.map((n, l) => ({ size: n, published: (this.levelPublished as Float64Array)[l], delivered: (this.levelDelivered as Float64Array)[l] }));
  }

  /** With a codec: encodes at publish; without one, a per-publish codec is a mistake. */
  encode(value: T, s: PublishSettings): T {
    if (this.codec === undefined) throw noCodecError(this.name, s);
    return this.codec.encode(value, s) as unknown as T;
  }

  get tail(): number {
    return this.ring.tail;
  }

  get overflow(): OverflowPolicy {
    return this.settings.overflow;
  }

  /** True when `publish()` waits for room (overflow `block`). */
  get waits(): boolean {
    return this.strategy.waits;
  }

  /** @internal (PublishQueueHost) */
  wakeAll(): void {
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) gl[i].wake();
  }

  // ---- delayed messages (log-delays.ts) -----------------------------------------------------

  /** Delayed messages not yet due, once the topic has had one. */
  delays: Delays | undefined = undefined;
  /** How many messages are delayed and not yet due (`delays.size`, kept here for the take paths). */
  delayed = 0;

  /** @internal (GroupHost) True while the message at `off` is delayed and not yet due. */
  notDue(off: number): boolean {
    return (this.delays as Delays).holds(off);
  }

  // ---- retention (log-retention.ts) ---------------------------------------------------------

  /**
   * A lower bound of every group's committed offset: committed offsets only move down by a seek
   * or a new group, which lower it (`committedLowered`), so `head < committedLow` proves nobody needs
   * the head without visiting every group on every publish.
   */
  committedLow = 0;
  /** True while the head's move clamps the groups; `releaseDeferred` when a settle meanwhile asked to admit. */
  clamping = false;
  releaseDeferred = false;
  /**
   * The lowest committed offset at which a settle can have anything to do in `releasedSlow`:
   * `Infinity` while no publisher waits, `-Infinity` when every settle must look (a member may
   * be hungry, the capacity is not the configured one, the head has passed the mark), else the
   * half-mark `tail - capacity / 2` (the settling group's committed offset is at least the lowest,
   * so below the mark it proves the mark unmet; the tail does not move while publishers wait,
   * except by admitting them, after which this is computed again).
   */
  releaseAt = Infinity;
  /**
   * A member may be hungry while publishers wait: set when a publisher starts waiting and when a
   * member found nothing and no room (`refill`); cleared when `releasedSlow` finds no member
   * hungry. Every way a member becomes hungry goes through a take that finds nothing, and so
   * through `refill`.
   */
  hungerSeen = false;

  /** @internal (LeanLog) True when no group needs the oldest retained message (`ring.head < minCommitted()`), usually without computing the minimum. */
  headFree(): boolean {
    const head = this.ring.head;
    if (head < this.committedLow) return true;
    this.committedLow = this.minCommitted();
    return head < this.committedLow;
  }

  /** The lowest committed offset of the groups (the tail without any). */
  minCommitted(): number {
    let min = this.ring.tail;
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) if (gl[i].committed < min) min = gl[i].committed;
    return min;
  }

  /** @internal (GroupHost) A group's committed offset moved down to `committed` (a seek), or a group starts there. */
  committedLowered(committed: number): void {
    if (committed < this.committedLow) this.committedLow = committed;
  }

  /**
   * True while some retained message has a TTL, or the topic has priorities, per-key ordering or
   * a delayed message: the take paths that skip those checks must not run. A field, kept in step
   * by whatever changes them: the pull faces read it on every take.
   */
  ttlActive = false;

  /** Recomputes {@link ttlActive} (the TTL index changed, or `generalTake`). */
  syncTtlActive(): void {
    this.ttlActive = this.generalTake || this.expiry.active;
  }

  closedError(): Error {
    return this.openError ?? new ClosedError(`topic \`${this.name}\` is closed`);
  }

  fullError(): TopicFullError {
    return new TopicFullError(this.name, this.capacity);
  }
}
