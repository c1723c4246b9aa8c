import type { SchedulerLike } from 'rxjs';
import { ClosedError, TopicFullError } from '../../errors.js';
import type { TopicStore } from '../../storage.js';
import type { OverflowPolicy } from '../../types.js';
import { Clock } from './clock.js';
import { Delays } from './delays.js';
import { Expiry } from './expiry.js';
import { type Journal, NO_JOURNAL } from './journal.js';
import type { Group } from './group/group.js';
import { type OverflowStrategy, strategyFor } from './overflow.js';
import { PublishQueue } from './publish-queue.js';
import { pow2AtLeast, Ring } from './ring.js';
import { noCodecError, TopicCodec } from './topic-codec.js';
import { bornDouble, bornMutable } from './hot/born.js';
import { checkPriority, type PublishSettings, type TopicSettings } from '../topic-options.js';

/** Slots a ring starts with (or fewer, for a smaller capacity). */
const INITIAL_SLOTS = 1024;

/**
 * What a topic's log knows of its messages: the ring, the counters, the priority levels, the
 * delayed messages and whether any retained message has a TTL, with the flags the fast paths
 * read (`lean`, `ttlActive`). Retention, appending and publishing build on it
 * (log-retention.ts, log-append.ts, topic-log.ts).
 */
export abstract class LogState<T> {
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
  protected readonly codec: TopicCodec<T> | undefined;
  protected readonly strategy: OverflowStrategy;
  /** @internal (LeanLog) */
  groupList: Group<T>[] = [];
  protected readonly expiry: Expiry<T>;
  /** @internal (LeanLog) */
  readonly clock: Clock;
  protected readonly ttlMs: number;
  /**
   * Where the changes a storage must know go: {@link NO_JOURNAL} until the topic's storage has
   * opened it (durable/journal.ts), and for good without one.
   */
  journal: Journal;
  /** The topic's store, once open, for the groups' journals. */
  store: TopicStore | undefined;
  /** True when the topic has a storage (open or still opening). */
  readonly persistent: boolean;
  /**
   * True while the storage opens the topic: publishes, commits and seeks wait in {@link waiting},
   * run in order once recovery is applied (or refused, when the store could not open).
   */
  opening = false;
  /** Why the store could not open: every publish rejects with it. */
  openError: Error | undefined = undefined;
  /** A codec or a storage: `publish` and `publishBatch` take the checked path. */
  protected readonly checked: boolean;
  protected readonly queue: PublishQueue<T>;
  /** No codec, no store, no topic TTL, not closed: `appendLean` applies to publishes without options. */
  protected lean: boolean;

  constructor(name: string, settings: TopicSettings) {
    this.name = name;
    this.settings = settings;
    this.scheduler = settings.scheduler;
    this.capacity = settings.capacity;
    // slots grow on demand (doubling) up to the capacity: a large capacity costs nothing up front
    this.ring = new Ring<T>(Math.min(pow2AtLeast(settings.capacity), INITIAL_SLOTS));
    this.strategy = strategyFor(settings.overflow, settings.capacity, settings.maxCapacity, settings.growthFactor, settings.shrinkThreshold);
    this.expiry = new Expiry<T>(this.scheduler, () => this.onExpiryTimer());
    this.clock = new Clock(this.scheduler);
    this.queue = new PublishQueue<T>(this);
    this.ttlMs = settings.ttlMs;
    this.persistent = settings.storage !== undefined;
    this.store = undefined; // set once the storage has opened the topic (TopicImpl)
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
    this.lean = this.leanPossible();
    this.generalTake = this.levelOf !== undefined || this.ordered;
    this.syncTtlActive();
    // flags that flip in a topic's life, and a counter that grows past small integers
    bornMutable(this, 'closed', 'lean', 'ttlActive');
    if (this.persistent) bornMutable(this, 'journal');
    bornDouble(this, 'published');
  }

  /** The TTL timer fired. */
  protected abstract onExpiryTimer(): void;

  /** @internal (PublishQueueHost) Appends one message if room can be made (log-append.ts). */
  abstract append(value: T, s: PublishSettings, wake?: boolean): number;

  /** True when `appendLean` may take publishes without options: nothing to encode, store, expire, delay or rank. */
  private leanPossible(): boolean {
    return this.codec === undefined && !this.persistent && this.ttlMs === Infinity && this.levelOf === undefined && !this.ordered && this.delayed === 0 && !this.closed;
  }

  /** @internal (GroupHost) `ordering: 'key'`. */
  readonly ordered: boolean;

  // ---- priority levels (`priorities` > 1) ----------------------------------------------------

  /** @internal (GroupHost) Priority levels: 1 when the topic has none. */
  readonly levelCount: number;
  /** @internal (GroupHost) */
  readonly maxConsecutive: number;
  /** The level of a publish that names none: the middle one. */
  protected readonly defaultLevel: number;
  /** @internal (GroupHost) With priorities: each retained message's level, by ring slot. */
  levelOf: Uint8Array | undefined = undefined;
  /** @internal (hot/append-lean.ts) Messages published, by level. */
  levelPublished: Float64Array | undefined = undefined;
  private levelDelivered: Float64Array | undefined = undefined;
  /**
   * True while the take paths must look at every message (priorities, or a message delayed):
   * {@link ttlActive} turns the fast paths off.
   */
  private generalTake = false;

  /** Refuses a `priority` outside the topic's levels (ConfigError). */
  protected checkLevel(s: PublishSettings, at?: string): void {
    if (s.priority >= this.levelCount) checkPriority(s, this.levelCount, at);
  }

  /** Records the level of the message just appended at `off`. */
  protected rank(off: number, priority: number): void {
    const level = priority < 0 ? this.defaultLevel : priority;
    (this.levelOf as Uint8Array)[off & this.ring.mask] = level;
    (this.levelPublished as Float64Array)[level]++;
  }

  /** @internal (GroupHost) A group handed out a message of `level` as a first delivery. */
  firstDelivered(level: number): void {
    (this.levelDelivered as Float64Array)[level]++;
  }

  /** `stats().priorities`: by level, retained, published, delivered; undefined without priorities. */
  protected levelStats(): { size: number; published: number; delivered: number }[] | undefined {
    const of = this.levelOf;
    if (of === undefined) return undefined;
    const ring = this.ring;
    const size = new Array<number>(this.levelCount).fill(0);
    for (let off = ring.head; off < ring.tail; off++) if (ring.isLive(off)) size[of[off & ring.mask]]++;
    return size.map((n, l) => ({ size: n, published: (this.levelPublished as Float64Array)[l], delivered: (this.levelDelivered as Float64Array)[l] }));
  }


  /** With a codec: encodes at publish; without one, a per-publish codec is a mistake. */
  protected encode(value: T, s: PublishSettings): T {
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
  // ---- delayed messages ---------------------------------------------------------------------

  /** Delayed messages not yet due, once the topic has had one. */
  protected delays: Delays | undefined = undefined;
  /** How many messages are delayed and not yet due (`delays.size`, kept here for the take paths). */
  delayed = 0;

  /** When a message published with `s` (a `delayMs` or `deliverAt`) is due; 0 when that is already past. */
  protected dueOf(s: PublishSettings): number {
    const now = this.scheduler.now();
    const at = s.deliverAt !== 0 ? s.deliverAt : now + s.delayMs;
    return at > now ? at : 0;
  }

  /** The message at `off` goes to no group before `at`. While any waits, publishes take the general path (it looks). */
  protected delay(off: number, at: number): void {
    this.delays ??= new Delays(this.scheduler, this);
    this.delays.add(off, at);
    this.delayed = this.delays.size;
    this.lean = false;
    this.generalTake = true;
    this.ttlActive = true;
  }

  /** @internal (GroupHost) True while the message at `off` is delayed and not yet due. */
  notDue(off: number): boolean {
    return (this.delays as Delays).holds(off);
  }

  /** Releases the delayed messages due by now; `wake`: wake the groups (a take releasing them is about to look itself). */
  protected releaseDue(wake: boolean): void {
    const d = this.delays as Delays;
    d.release();
    this.delayed = d.size;
    if (this.delayed === 0) {
      this.lean = this.leanPossible();
      this.generalTake = this.levelOf !== undefined || this.ordered;
      this.syncTtlActive();
    }
    if (wake) this.wakeAll();
  }

  /** @internal (DelayHost) */
  cameDue(off: number): void {
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) gl[i].cameDue(off);
  }

  /** @internal (DelayHost) */
  onDelayTimer(): void {
    this.releaseDue(true);
  }

  /** @internal (DelayHost) */
  someoneWaits(): boolean {
    return this.groupList.some((g) => g.members.some((m) => m.waited));
  }

  // ---- for the groups (GroupHost) ----------------------------------------------------------

  /**
   * True while some retained message has a TTL, or the topic has priorities, per-key ordering or
   * a delayed message: the take paths that skip those checks must not run. A field, kept in step
   * by whatever changes them: the pull faces read it on every take.
   */
  ttlActive = false;

  /** Recomputes {@link ttlActive} (the TTL index changed, or `generalTake`). */
  protected syncTtlActive(): void {
    this.ttlActive = this.generalTake || this.expiry.active;
  }

  protected closedError(): Error {
    return this.openError ?? new ClosedError(`topic \`${this.name}\` is closed`);
  }

  protected fullError(): TopicFullError {
    return new TopicFullError(this.name, this.capacity);
  }
}
