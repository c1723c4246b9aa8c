import type { SchedulerLike } from 'rxjs';
import { ClosedError, ConfigError, TopicFullError } from '../../errors.js';
import { describe } from '../validate.js';
import type { TopicStore } from '../../storage.js';
import type { BatchEntry, BatchOptions, OverflowPolicy, PublishOptions } from '../../types.js';
import { Clock } from './clock.js';
import { Delays } from './delays.js';
import { Expiry } from './expiry.js';
import type { Group } from './group/group.js';
import { fanOut, push, pushDelivery, pushLeveled, wake } from './hot/publish.js';
import { type OverflowHost, type OverflowStrategy, strategyFor } from './overflow.js';
import { PublishQueue } from './publish-queue.js';
import { EMPTY_HEADERS, pow2AtLeast, Ring } from './ring.js';
import { noCodecError, TopicCodec } from './topic-codec.js';
import { batchSettings, checkPriority, entrySettings, onlyPriority, type PublishSettings, publishSettings, type TopicSettings } from '../topic-options.js';

/** `publishBatch`'s values as an array; ConfigError when they are not iterable (a string is one value, not its characters). */
function batchOf<T>(values: Iterable<T>): T[] {
  if (Array.isArray(values)) return values as T[];
  if (typeof values !== 'object' || values === null || typeof (values as Iterable<T>)[Symbol.iterator] !== 'function') {
    throw new ConfigError('values', `\`values\` must be an iterable of messages (an array, a Set, a generator), got ${describe(values)}`);
  }
  return Array.from(values);
}

/** Slots a ring starts with (or fewer, for a smaller capacity). */
const INITIAL_SLOTS = 1024;

const NO_PUBLISH: PublishSettings = Object.freeze({ key: undefined, headers: undefined, ttlMs: Infinity, signal: undefined, codec: undefined, compression: undefined, delayMs: 0, deliverAt: 0, priority: -1 });

/**
 * The log half of a topic: the ring, retention, overflow, TTL and publishing (the lean paths,
 * batches as runs, publishers waiting for room). {@link TopicImpl} adds groups, consumers, the
 * faces, durability recovery and the lifecycle.
 */
export abstract class TopicLog<T> implements OverflowHost {
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
  protected groupList: Group<T>[] = [];
  protected readonly expiry: Expiry<T>;
  protected readonly clock: Clock;
  protected readonly ttlMs: number;
  /** The durable side, once the topic's storage has opened it. */
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
  private readonly waiting: (() => void)[] = [];
  /** A codec or a storage: `publish` and `publishBatch` take the checked path. */
  private readonly checked: boolean;
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
    this.ttlActive = !this.generalTake; // born mutable (see below)
    this.syncTtlActive();
    // Born mutable: V8 takes a field that only the constructor has written for a constant
    // (per hidden class), and optimized code that read it is thrown away when it first changes.
    // `close()` flips these two, so the first topic to close threw away the hot publish and
    // settle code of every topic (`--trace-deopt`: "code dependencies"). Written twice here, the
    // fields are mutable before any code is optimized. The other fields that flip once in an
    // object's life do the same (Sender, PublishQueue, WaitList, Group, ReadableFill).
    this.closed = true;
    this.closed = false;
    this.lean = !this.lean;
    this.lean = !this.lean;
    this.published = 0.5; // born double, as the group's counters (see GroupWindow's constructor)
    this.published = 0;
  }

  /** The TTL timer fired. */
  protected abstract onExpiryTimer(): void;

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
  private readonly defaultLevel: number;
  /** @internal (GroupHost) With priorities: each retained message's level, by ring slot. */
  levelOf: Uint8Array | undefined = undefined;
  private levelPublished: Float64Array | undefined = undefined;
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

  /** The settings of a `tryPublish` that gives only `priority` (see `tryPublishSlow`). */
  private readonly ranked: PublishSettings = { ...NO_PUBLISH };

  /** Records the level of the message just appended at `off`. */
  private rank(off: number, priority: number): void {
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

  // ---- publishing -------------------------------------------------------------------------

  /** `admitted` (internal, dead letters): resolve once in the ring, as `tryPublish` would, not once durable. */
  publish(value: T, options?: PublishOptions, admitted = false): Promise<number> {
    if (options !== undefined || this.checked) return this.publishChecked(value, options, admitted);
    if (this.closed) return Promise.reject(this.closedError());
    return this.publishSettled(value, NO_PUBLISH, admitted);
  }

  /** `publish` with options or a codec, out of line: whatever refuses the message does before anything changes, as a rejected promise. */
  private publishChecked(value: T, options: PublishOptions | undefined, admitted: boolean): Promise<number> {
    let s = NO_PUBLISH;
    try {
      if (options !== undefined) s = publishSettings(options);
      this.checkLevel(s);
      if (this.closed) return Promise.reject(this.closedError());
      if (s.signal?.aborted) return Promise.reject(s.signal.reason);
      if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) value = this.encode(value, s);
    } catch (e) {
      return Promise.reject(e); // bad options, or a value the codec cannot encode: a promise-returning method never throws
    }
    if (this.opening) return this.afterOpen(() => this.publishSettled(value, s, admitted), s.signal);
    return this.publishSettled(value, s, admitted);
  }

  /** `publish` once its message is accepted as valid: appended now, or queued for room. */
  private publishSettled(value: T, s: PublishSettings, admitted: boolean): Promise<number> {
    if (this.queue.length === 0) {
      let off: number;
      try {
        off = this.append(value, s);
      } catch (e) {
        return Promise.reject(e); // the store refused it: nothing was accepted
      }
      if (off >= 0) return this.store === undefined || admitted ? Promise.resolve(off) : this.durable(off);
      if (!this.strategy.waits) {
        this.rejected++;
        return Promise.reject(this.fullError());
      }
    }
    this.mayHunger();
    return this.queue.enqueue<number>(value, undefined, s, 0, undefined, admitted);
  }

  tryPublish(value: T, options?: PublishOptions): boolean {
    // `=== true`: one compare instead of V8's full truthiness test of the field (see ConsumerImpl.tryRecv)
    if (options === undefined && this.lean === true && this.queue.length === 0) {
      const off = this.appendLean(value);
      if (off >= 0) return true;
      if (off === -1) return false;
    }
    return this.tryPublishSlow(value, options);
  }

  /**
   * `tryPublish` past the lean path, out of line: the publisher's optimized code inlines
   * `tryPublish`, and what it leaves of V8's inlining budget decides whether the subscribers'
   * `next` chains are inlined too.
   */
  private tryPublishSlow(value: T, options: PublishOptions | undefined): boolean {
    let s = NO_PUBLISH;
    if (options !== undefined) {
      const level = this.levelOf === undefined || this.codec !== undefined ? -1 : onlyPriority(options, this.levelCount);
      if (level < 0) s = publishSettings(options);
      else {
        if (this.queue.length === 0 && this.leveledLean()) {
          const off = this.appendLeveled(value, level);
          if (off >= 0) return true;
        }
        // `append` reads the settings before it wakes anyone and keeps none of them: one object
        // serves every such publish (not with a codec: its `encode` runs user code in between)
        s = this.ranked;
        s.priority = level;
      }
    }
    this.checkLevel(s);
    if (this.closed) throw this.closedError();
    if (this.queue.length !== 0 || this.opening) return false;
    if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) value = this.encode(value, s);
    if (this.append(value, s) >= 0) return true;
    if (!this.strategy.waits) this.rejected++;
    return false;
  }

  publishBatch(values: Iterable<T> | Iterable<BatchEntry<T>>, options?: BatchOptions): Promise<number[]> {
    if (options !== undefined || this.checked || !Array.isArray(values)) return this.publishBatchChecked(values, options);
    if (this.closed) return Promise.reject(this.closedError());
    return this.appendBatch(values as T[], NO_PUBLISH, undefined, this.lean);
  }

  /**
   * `publishBatch` with options, entries, a codec or an iterable, out of line: everything that can
   * refuse the batch runs before anything is appended (a batch is refused whole), as a rejected promise.
   */
  private publishBatchChecked(values: Iterable<T> | Iterable<BatchEntry<T>>, options: BatchOptions | undefined): Promise<number[]> {
    let s = NO_PUBLISH;
    let list: T[];
    let each: PublishSettings[] | undefined;
    try {
      let entries = false;
      if (options !== undefined) ({ settings: s, entries } = batchSettings(options));
      this.checkLevel(s);
      if (this.closed) return Promise.reject(this.closedError());
      if (entries) {
        const raw = batchOf(values as Iterable<BatchEntry<T>>);
        list = new Array<T>(raw.length);
        each = new Array<PublishSettings>(raw.length);
        for (let i = 0; i < raw.length; i++) {
          const e = entrySettings(raw[i], i, s);
          this.checkLevel(e.settings, `entries[${i}].priority`);
          list[i] = e.value as T;
          each[i] = e.settings;
        }
      } else list = batchOf(values as Iterable<T>);
      if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) {
        const settings = s;
        list = list.map((x) => this.encode(x, settings));
      }
    } catch (e) {
      return Promise.reject(e);
    }
    if (s.signal?.aborted) return Promise.reject(s.signal.reason);
    if (this.opening) return this.afterOpen(() => this.appendBatch(list, s, each, false), s.signal);
    return this.appendBatch(list, s, each, options === undefined && this.lean);
  }

  /** Appends a batch accepted as valid (`each`: per-message settings); what does not fit waits for room or is refused. */
  private appendBatch(list: T[], s: PublishSettings, each: PublishSettings[] | undefined, lean: boolean): Promise<number[]> {
    let offsets: number[];
    let i = 0;
    if (this.queue.length === 0) {
      if (lean) {
        offsets = new Array<number>(list.length); // filled by index: no growth copies per batch
        i = this.appendRuns(list, offsets);
        if (i < list.length) offsets.length = i;
      } else offsets = [];
      if (i < list.length) {
        if (this.store === undefined) i = this.appendEach(list, s, each, offsets, i);
        else {
          try {
            i = this.appendEach(list, s, each, offsets, i);
          } catch (e) {
            return this.batchRefused(offsets.length, e); // the store refused a message
          }
        }
      }
      if (i === list.length || !this.strategy.waits) {
        if (i > 0) this.wakeAll(); // a batch moves as a batch: one wake for all of it
        if (i === list.length) return this.store === undefined ? Promise.resolve(offsets) : this.durable(offsets);
        this.rejected += list.length - i;
        return Promise.reject(this.fullError());
      }
      // the rest waits for room: queue it before the wake, so acks made during the wake admit it
      this.mayHunger();
      const waiting = this.queue.enqueue<number[]>(undefined, list, s, i, offsets, false, each);
      if (i > 0) this.wakeAll();
      return waiting;
    }
    this.mayHunger();
    return this.queue.enqueue<number[]>(undefined, list, s, 0, [], false, each);
  }

  /** Appends `list` from `from` one by one while there is room, without waking; returns where it stopped. */
  private appendEach(list: readonly T[], s: PublishSettings, each: readonly PublishSettings[] | undefined, offsets: number[], from: number): number {
    let i = from;
    for (; i < list.length; i++) {
      const off = this.append(list[i], each === undefined ? s : each[i], false);
      if (off < 0) break;
      offsets.push(off);
    }
    return i;
  }

  /**
   * A batch failed with `error` after its first `accepted` messages went in: they stay accepted
   * (consumers are woken, and with a store they are made durable before the promise rejects).
   */
  private batchRefused(accepted: number, error: unknown): Promise<never> {
    if (accepted > 0) this.wakeAll();
    const fail = (): never => {
      throw error;
    };
    return this.store === undefined || accepted === 0 ? Promise.reject(error) : this.store.sync().then(fail, fail);
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

  /**
   * Runs `publish` once the store is open, in the order asked; rejects instead when the topic was
   * closed meanwhile, the store could not open, or `signal` aborted.
   */
  private afterOpen<R>(publish: () => Promise<R>, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.whenOpen(() => {
        if (this.closed) reject(this.closedError());
        else if (signal?.aborted) reject(signal.reason);
        else publish().then(resolve, reject);
      });
    });
  }

  /** @internal (GroupHost) Runs `run` once the store is open (or could not open), after everything asked before it. */
  whenOpen(run: () => void): void {
    if (this.opening) this.waiting.push(run);
    else run();
  }

  /** The store is open and recovery applied (or it could not open): runs what waited, in order. */
  protected opened(): void {
    this.opening = false;
    for (const run of this.waiting.splice(0)) run();
  }

  /**
   * Resolves once everything the topic accepted so far is as durable as a resolved `publish()`
   * (at once without a storage; once open and synced while the store opens).
   */
  synced(): Promise<void> {
    if (this.store !== undefined) return this.store.sync();
    if (!this.opening) return Promise.resolve();
    return new Promise<void>((resolve) => this.whenOpen(() => resolve(this.synced())));
  }

  /** Resolves `result` once the store has made everything so far durable. */
  private durable<R>(result: R): Promise<R> {
    return (this.store as TopicStore).sync().then(() => result);
  }

  /** @internal (PublishQueueHost) */
  wakeAll(): void {
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) gl[i].wake();
  }

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
      if (m === null || !(m.sink !== null ? push(g, m, off, value) : pushDelivery(g, m, off, value))) wake(g);
    } else if (gl.length > 1) fanOut(gl, off, value); // out of line on purpose: see there
    return off;
  }

  /** True when `appendLeveled` may take a publish giving only `priority`: `leanPossible` but for the levels, and not opening. */
  private leveledLean(): boolean {
    return this.codec === undefined && !this.persistent && this.ttlMs === Infinity && !this.ordered && this.delayed === 0 && !this.closed && !this.opening;
  }

  /**
   * The publish of a message with only a level on a topic with priorities, in one pass while the
   * ring has room: `appendLean`'s ring write (twins: keep them in step), the level, and the
   * hand-off of `wakeFor`. Returns the offset, or -2 when the general `append` must decide.
   */
  private appendLeveled(value: T, level: number): number {
    const ring = this.ring;
    const off = ring.tail;
    const i = off & ring.mask;
    const slots = ring.mask + 1;
    if (off - ring.head < slots && ring.size < this.capacity) {
      ring.live[i] = 1;
      ring.size++;
    } else if (ring.size === slots && this.capacity === slots && this.headFree()) {
      ring.head++;
    } else return -2;
    if (ring.decorated) ring.undecorate(i);
    ring.tail = off + 1;
    ring.values[i] = value;
    ring.stamps[i] = this.clock.stamp();
    this.published++;
    (this.levelOf as Uint8Array)[i] = level;
    (this.levelPublished as Float64Array)[level]++;
    const gl = this.groupList;
    for (let k = 0; k < gl.length; k++) pushLeveled(gl[k], off, value);
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
        if (this.store !== undefined) this.persist(value, s, stamp, Infinity, due);
        off = ring.overwrite(value, s.key, s.headers ?? EMPTY_HEADERS, stamp);
        if (this.store !== undefined) this.store.evicted(ring.head);
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
    if (this.store !== undefined) this.persist(value, s, now, expires, due);
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
    for (let i = 0; i < gl.length; i++) pushLeveled(gl[i], off, value);
  }

  /** Hands the message about to take offset `ring.tail` to the store (which may throw StorageError). */
  protected persist(value: T, s: PublishSettings, timestamp: number, expires: number, due: number): void {
    const m = { offset: this.ring.tail, value, key: s.key, headers: s.headers ?? EMPTY_HEADERS, timestamp, expires };
    const priority = this.levelOf === undefined ? undefined : s.priority < 0 ? this.defaultLevel : s.priority;
    (this.store as TopicStore).append(due === 0 && priority === undefined ? m : { ...m, due: due === 0 ? undefined : due, priority });
  }

  // ---- delayed messages ---------------------------------------------------------------------

  /** Delayed messages not yet due, once the topic has had one. */
  protected delays: Delays | undefined = undefined;
  /** How many messages are delayed and not yet due (`delays.size`, kept here for the take paths). */
  delayed = 0;

  /** When a message published with `s` (a `delayMs` or `deliverAt`) is due; 0 when that is already past. */
  private dueOf(s: PublishSettings): number {
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

  /** True when no group needs the oldest retained message (`ring.head < minFloor()`), usually without computing the minimum. */
  protected headFree(): boolean {
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
    if (this.store !== undefined) this.store.evicted(head);
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

  private mayHunger(): void {
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

  protected closedError(): Error {
    return this.openError ?? new ClosedError(`topic \`${this.name}\` is closed`);
  }

  protected fullError(): TopicFullError {
    return new TopicFullError(this.name, this.capacity);
  }
}
