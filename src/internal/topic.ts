import type { AsyncIterableX } from 'ix/asynciterable';
import type { Observable, SchedulerLike } from 'rxjs';
import { ClosedError, TopicFullError } from '../errors.js';
import type { RecoveredTopic, TopicStore } from '../storage.js';
import type { OverflowPolicy } from '../types.js';
import type { Consumer, ConsumerOptions, Delivery, GroupStats, Headers, PublishOptions, Topic, TopicStats, WritableOptions } from '../types.js';
import { ConsumerImpl, memberSettings } from './consumer.js';
import { consumeFace, messagesFace, readableFace, valuesFace, writableFace } from './faces.js';
import { type DeadLetterReason, Group, type GroupHost } from './group.js';
import { type OverflowHost, type OverflowStrategy, strategyFor } from './overflow.js';
import type { ConsumerPort } from './port.js';
import { EMPTY_HEADERS, pow2AtLeast, Ring } from './ring.js';
import { Clock } from './clock.js';
import { type DeadLetterTarget, deadLetterHeaders, sendDeadLetter } from './dead-letter.js';
import { Expiry } from './expiry.js';
import { PublishQueue } from './publish-queue.js';
import { noCodecError, TopicCodec } from './topic-codec.js';
import { consumerOptions, type PublishSettings, publishSettings, type TopicSettings } from './topic-options.js';

/** Where dead letters go: the bus resolves a topic name. */
export interface DeadLetterRouter {
  deadLetterTopic(name: string): TopicImpl<unknown> | undefined;
}


/** Slots a ring starts with (or fewer, for a smaller capacity). */
const INITIAL_SLOTS = 1024;

const NO_PUBLISH: PublishSettings = Object.freeze({ key: undefined, headers: undefined, ttlMs: Infinity, signal: undefined, codec: undefined, compression: undefined });

/** The in-memory topic engine: a ring, its groups, the overflow strategy, TTL, and the faces. */
export class TopicImpl<T> implements Topic<T>, GroupHost<T>, OverflowHost {
  readonly name: string;
  readonly settings: TopicSettings;
  readonly scheduler: SchedulerLike;
  readonly ackTimeoutMs: number;
  readonly maxDeliveries: number;
  ring: Ring<T>;
  capacity: number;
  closed = false;
  published = 0;
  rejected = 0;
  dropped = 0;
  expired = 0;
  deadLetterDropped = 0;
  /** With a codec: encodes at publish, decodes per consumer. */
  private readonly codec: TopicCodec<T> | undefined;
  private readonly strategy: OverflowStrategy;
  private readonly groups = new Map<string, Group<T>>();
  private groupList: Group<T>[] = [];
  private readonly expiry: Expiry<T>;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  /** The durable side, when the topic has a storage. */
  readonly store: TopicStore | undefined;
  private readonly queue: PublishQueue<T>;
  private privateSeq = 0;
  /** No codec, no store, no topic TTL, not closed: `appendLean` applies to publishes without options. */
  private lean: boolean;
  private readonly router: DeadLetterRouter | undefined;

  constructor(name: string, settings: TopicSettings, router?: DeadLetterRouter) {
    this.name = name;
    this.settings = settings;
    this.scheduler = settings.scheduler;
    this.ackTimeoutMs = settings.ackTimeoutMs;
    this.maxDeliveries = settings.maxDeliveries;
    this.capacity = settings.capacity;
    this.router = router;
    // slots grow on demand (doubling) up to the capacity: a large capacity costs nothing up front
    this.ring = new Ring<T>(Math.min(pow2AtLeast(settings.capacity), INITIAL_SLOTS));
    this.strategy = strategyFor(settings.overflow, settings.capacity, settings.maxCapacity, settings.growthFactor, settings.shrinkThreshold);
    this.expiry = new Expiry<T>(this.scheduler, () => this.onExpiryTimer());
    this.clock = new Clock(this.scheduler);
    this.queue = new PublishQueue<T>(this);
    this.ttlMs = settings.ttlMs;
    if (settings.storage !== undefined) {
      this.store = settings.storage.open(name);
      this.recover(this.store.recovered);
    }
    for (const g of settings.groups) if (!this.groups.has(g)) this.addGroup(g, true, this.ring.head);
    if (settings.codec !== undefined) this.codec = new TopicCodec<T>(settings.codec, settings.compression);
    this.lean = this.codec === undefined && this.store === undefined && this.ttlMs === Infinity;
  }

  /** With a codec: turns a retained frame back into a value (each consumer gets its own). */
  get decode(): ((bytes: unknown) => T) | undefined {
    return this.codec?.decode;
  }

  /** Rebuilds the ring and the durable groups from what the store recovered. */
  private recover(r: RecoveredTopic): void {
    const ring = this.ring;
    let empty = true;
    for (const m of r.messages) {
      if (empty) {
        ring.startAt(m.offset);
        empty = false;
      } else if (m.offset < ring.tail) continue;
      this.fit(m.offset + 1);
      if (m.offset > ring.tail) ring.skipTo(m.offset);
      ring.append(m.value as T, m.key, m.headers, m.timestamp, m.expires);
      if (m.expires !== Infinity) this.expiry.add(m.expires, m.offset);
    }
    if (empty) ring.startAt(r.tail);
    else if (r.tail > ring.tail) {
      this.fit(r.tail);
      ring.skipTo(r.tail);
    }
    this.published = ring.tail;
    for (const sg of r.groups) {
      const g = this.addGroup(sg.name, true, Math.max(ring.head, Math.min(sg.committed, ring.tail)), false);
      g.restore(sg);
    }
    const corrupt = r.corrupt;
    if (corrupt !== undefined && corrupt.length > 0) {
      // after this turn, so a dead-letter topic created right after this one gets its own options
      queueMicrotask(() => {
        for (const c of corrupt) {
          const h = { 'x-original-offsets': `${c.offset}..${c.end - 1}` };
          void this.deadLetter('', c.offset, 'corrupt', c.detail, 0, c.bytes as T, undefined, h);
        }
      });
    }
  }

  /** Recovery: makes the ring wide enough for offsets up to `end` (exclusive). */
  private fit(end: number): void {
    const need = end - this.ring.head;
    if (need > this.ring.slots) this.relayout(pow2AtLeast(need));
  }

  /** With a codec: encodes at publish; without one, a per-publish codec is a mistake. */
  private encode(value: T, s: PublishSettings): T {
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
    const s = options === undefined ? NO_PUBLISH : publishSettings(options);
    if (this.closed) return Promise.reject(this.closedError());
    if (s.signal?.aborted) return Promise.reject(s.signal.reason);
    if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) value = this.encode(value, s);
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
    return this.queue.enqueue<number>(value, undefined, s, 0, undefined, admitted);
  }

  tryPublish(value: T, options?: PublishOptions): boolean {
    if (options === undefined && this.lean && this.queue.length === 0) {
      const off = this.appendLean(value);
      if (off >= 0) return true;
      if (off === -1) return false;
    }
    const s = options === undefined ? NO_PUBLISH : publishSettings(options);
    if (this.closed) throw this.closedError();
    if (this.queue.length !== 0) return false;
    if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) value = this.encode(value, s);
    if (this.append(value, s) >= 0) return true;
    if (!this.strategy.waits) this.rejected++;
    return false;
  }

  publishBatch(values: Iterable<T>, options?: PublishOptions): Promise<number[]> {
    const s = options === undefined ? NO_PUBLISH : publishSettings(options);
    let list = Array.isArray(values) ? (values as T[]) : Array.from(values);
    if (this.closed) return Promise.reject(this.closedError());
    if (this.codec !== undefined || s.codec !== undefined || s.compression !== undefined) list = list.map((x) => this.encode(x, s)); // all or nothing
    if (s.signal?.aborted) return Promise.reject(s.signal.reason);
    const offsets: number[] = [];
    let i = 0;
    if (this.queue.length === 0) {
      if (options === undefined && this.lean) i = this.appendRuns(list, offsets);
      for (; i < list.length; i++) {
        const off = this.append(list[i], s, false);
        if (off < 0) break;
        offsets.push(off);
      }
      if (i > 0) this.wakeAll(); // a batch moves as a batch: one wake for all of it
      if (i === list.length) return this.store === undefined ? Promise.resolve(offsets) : this.durable(offsets);
      if (!this.strategy.waits) {
        this.rejected += list.length - i;
        return Promise.reject(this.fullError());
      }
    }
    return this.queue.enqueue<number[]>(undefined, list, s, i, offsets);
  }

  /**
   * The lean batch path: appends as much of `list` as fits in runs (free slots, or the oldest
   * slots of a full ring that nobody needs), one stamp per run, without waking anyone. Returns
   * how many went in; the general path decides about the rest.
   */
  private appendRuns(list: readonly T[], offsets: number[]): number {
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
      for (let j = 0; j < k; j++) offsets.push(first + j);
      i += k;
      this.published += k;
    }
    return i;
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
  private appendLean(value: T): number {
    const ring = this.ring;
    const slots = ring.mask + 1;
    const clock = this.clock;
    let off: number;
    if (ring.tail - ring.head < slots && ring.size < this.capacity) {
      off = ring.append(value, undefined, EMPTY_HEADERS, clock.budget > 0 ? (clock.budget--, clock.cached) : clock.stamp(), Infinity);
    } else if (ring.size === slots && this.capacity === slots && ring.head < this.floorOfOne()) {
      off = ring.overwrite(value, undefined, EMPTY_HEADERS, clock.budget > 0 ? (clock.budget--, clock.cached) : clock.stamp());
    } else return -2;
    this.published++;
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) {
      const g = gl[i];
      const m = g.direct;
      if (m === null || !(m.sink !== null ? g.push(m, off, value) : g.pushDelivery(m, off, value))) g.wake();
    }
    return off;
  }

  /** Appends one message if room can be made; returns its offset or -1. Wakes every group unless told not to. */
  /** @internal (PublishQueueHost) */
  append(value: T, s: PublishSettings, wake = true): number {
    const ring = this.ring;
    const ttl = s.ttlMs < this.ttlMs ? s.ttlMs : this.ttlMs;
    let off: number;
    if (ring.size >= this.capacity || ring.tail - ring.head >= ring.mask + 1) {
      const slots = ring.mask + 1;
      if (ttl === Infinity && ring.size === slots && this.capacity === slots && ring.tail - ring.head === slots && ring.head < this.minFloor()) {
        // steady state of a full ring: the oldest message was only kept for replay
        const stamp = this.clock.stamp();
        if (this.store !== undefined) this.persist(value, s, stamp, Infinity);
        off = ring.overwrite(value, s.key, s.headers ?? EMPTY_HEADERS, stamp);
        if (this.store !== undefined) this.store.evicted(ring.head);
        this.published++;
        if (wake) this.wakeAll();
        return off;
      }
      if (!this.makeRoom()) return -1;
    }
    const now = ttl === Infinity ? this.clock.stamp() : this.clock.now();
    const expires = ttl === Infinity ? Infinity : now + ttl;
    if (this.store !== undefined) this.persist(value, s, now, expires);
    off = ring.append(value, s.key, s.headers ?? EMPTY_HEADERS, now, expires);
    this.published++;
    if (expires !== Infinity) this.expiry.add(expires, off);
    if (wake) this.wakeAll();
    return off;
  }

  /** Hands the message about to take offset `ring.tail` to the store (which may throw StorageError). */
  private persist(value: T, s: PublishSettings, timestamp: number, expires: number): void {
    (this.store as TopicStore).append({ offset: this.ring.tail, value, key: s.key, headers: s.headers ?? EMPTY_HEADERS, timestamp, expires });
  }

  /** The ring is full: expire, evict what no group needs, or ask the overflow strategy. */
  private makeRoom(): boolean {
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

  /** `minFloor()` with the one-group case inline (a topic with one subscription or one group). */
  private floorOfOne(): number {
    const gl = this.groupList;
    return gl.length === 1 ? gl[0].floor : this.minFloor();
  }

  private minFloor(): number {
    let min = this.ring.tail;
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) if (gl[i].floor < min) min = gl[i].floor;
    return min;
  }

  private afterHeadMove(): void {
    const head = this.ring.head;
    if (this.store !== undefined) this.store.evicted(head);
    for (const g of this.groupList) if (g.floor < head) g.clampTo(head, false);
  }

  private relayout(slots: number): void {
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
    const floor = this.minFloor();
    while (ring.size > capacity && ring.head < floor) ring.evictHead();
    this.afterHeadMove();
    // growing: slots follow on demand (makeRoom doubles them); shrinking: give memory back
    const slots = pow2AtLeast(Math.max(capacity, ring.span, 1));
    if (slots < ring.slots) this.relayout(slots);
  }

  // ---- GroupHost ----------------------------------------------------------------------------

  get ttlActive(): boolean {
    return this.expiry.active;
  }

  expireDue(): void {
    if (this.expiry.due()) this.expireUntil(this.scheduler.now());
  }

  private expireUntil(now: number): void {
    this.expired += this.expiry.expire(this.ring, now);
    this.afterHeadMove();
  }

  private onExpiryTimer(): void {
    this.expireUntil(this.scheduler.now());
    this.released();
    for (const g of this.groupList) if (this.closed) g.wake();
  }

  deadLetter(group: string, offset: number, reason: DeadLetterReason, detail: string | undefined, deliveries: number, value: T, key: string | undefined, headers: Headers): true | Promise<unknown> {
    const name = this.settings.deadLetter;
    const dlq = name === undefined ? undefined : (this.router?.deadLetterTopic(name) as DeadLetterTarget<T> | undefined);
    const h = deadLetterHeaders(headers, { topic: this.name, group, offset, reason, detail, deliveries });
    return sendDeadLetter(dlq, value, key, h, this.droppedDeadLetter);
  }

  private readonly droppedDeadLetter = (): void => {
    this.deadLetterDropped++;
  };

  /**
   * Room may have been made. Waiting publishers go in once the ring has drained to half its
   * capacity (a low-water mark, as Node streams wait for 'drain'): a producer and a consumer in
   * lock-step then trade one wake per half ring instead of one per message. They go in at once
   * when a member has nothing left to take and waits for more (a pending `recv`, an attached
   * face), and a consumer that finds nothing admits them ({@link refill}): the mark never stalls anyone.
   */
  released(): void {
    // small enough to inline into every settle; the work is rare
    if (this.queue.length !== 0 || this.capacity !== this.settings.capacity) this.releasedSlow();
  }

  private releasedSlow(): void {
    if (this.queue.length > 0 && (this.needed <= this.capacity >>> 1 || this.hungry())) this.queue.admit();
    if (this.capacity !== this.settings.capacity) this.strategy.onRelease(this);
  }

  private hungry(): boolean {
    const gl = this.groupList;
    for (let i = 0; i < gl.length; i++) if (gl[i].hungry()) return true;
    return false;
  }

  refill(): boolean {
    if (this.queue.length === 0) return false;
    const ring = this.ring;
    if (ring.size >= this.capacity && ring.head >= this.minFloor()) return false; // no room: not worth a round
    const tail = this.ring.tail;
    this.queue.admit();
    return this.ring.tail !== tail;
  }

  dropPrivate(group: Group<T>): void {
    this.removeGroup(group);
  }

  // ---- groups and consumers -----------------------------------------------------------------

  private addGroup(name: string, durable: boolean, start: number, journal = true): Group<T> {
    const g = new Group<T>(this, name, durable, start);
    if (durable && journal && this.store !== undefined) this.store.group({ kind: 'create', group: name, offset: start });
    this.groups.set(name, g);
    this.groupList = [...this.groupList, g];
    return g;
  }

  private removeGroup(g: Group<T>): void {
    if (this.groups.get(g.name) !== g) return;
    this.groups.delete(g.name);
    this.groupList = this.groupList.filter((x) => x !== g);
    if (g.durable && this.store !== undefined) this.store.group({ kind: 'delete', group: g.name });
    g.dispose();
    this.released();
  }

  private startOf(from: ConsumerOptions<T>['from'], fallback: 'earliest' | 'latest'): number {
    const ring = this.ring;
    const f = from === undefined || from === 'committed' ? fallback : from;
    if (f === 'earliest') return ring.head;
    if (f === 'latest') return ring.tail;
    return Math.max(ring.head, Math.min(f.offset, ring.tail));
  }

  /** A new member (validated options). */
  open(options: ConsumerOptions<T>): ConsumerImpl<T> {
    const settings = memberSettings(options);
    let g: Group<T>;
    if (options.group !== undefined) {
      g = this.groups.get(options.group) ?? this.addGroup(options.group, true, this.startOf(options.from, 'earliest'));
    } else {
      g = this.addGroup(`~sub.${++this.privateSeq}`, false, this.startOf(options.from, 'latest'));
    }
    const c = new ConsumerImpl<T>(g, settings, options.signal);
    g.join(c);
    if (options.signal?.aborted) c.abort(options.signal.reason);
    return c;
  }

  consumer(options?: ConsumerOptions<T>): Consumer<T> {
    return this.open(consumerOptions(options));
  }

  private port(options: ConsumerOptions<T> | undefined): () => ConsumerPort<T> {
    const o = consumerOptions(options);
    return () => this.open(o);
  }

  messages(options?: ConsumerOptions<T>): Observable<Delivery<T>> {
    return messagesFace(this.port(options));
  }

  values(options?: ConsumerOptions<T>): Observable<T> {
    return valuesFace(this.port(options));
  }

  readable(options?: ConsumerOptions<T>): ReadableStream<Delivery<T>> {
    const o = consumerOptions(options);
    return readableFace(() => this.open(o), o.prefetch ?? 256);
  }

  consume(options?: ConsumerOptions<T>): AsyncIterableX<Delivery<T>> {
    const o = consumerOptions(options);
    return consumeFace(() => this.open(o));
  }

  writable(options?: WritableOptions): WritableStream<T> {
    return writableFace(this, options);
  }

  deleteGroup(name: string): boolean {
    const g = this.groups.get(name);
    if (g === undefined || !g.durable) return false;
    for (const m of g.members.slice()) m.close();
    this.removeGroup(g);
    return true;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.lean = false;
      this.queue.rejectAll(() => this.closedError());
      for (const g of this.groupList) g.wake();
    }
    return Promise.resolve();
  }

  /** Closes, closes every member, drops every message and deletes stored data (the topic was deleted). */
  destroy(): Promise<void> {
    void this.close();
    for (const g of this.groupList) {
      for (const m of g.members.slice()) m.close();
      g.dispose();
    }
    this.groups.clear();
    this.groupList = [];
    this.expiry.cancel();
    this.ring.reset();
    return this.store === undefined ? Promise.resolve() : this.store.destroy();
  }

  /** Flushes and releases the storage (the bus is closing). */
  release(): Promise<void> {
    return this.store === undefined ? Promise.resolve() : this.store.close();
  }

  private closedError(): ClosedError {
    return new ClosedError(`topic \`${this.name}\` is closed`);
  }

  private fullError(): TopicFullError {
    return new TopicFullError(this.name, this.capacity);
  }

  stats(): TopicStats {
    const groups: Record<string, GroupStats> = {};
    let subscribers = 0;
    for (const g of this.groupList) {
      groups[g.name] = g.stats();
      subscribers += g.members.length;
    }
    const ring = this.ring;
    const stats: TopicStats = {
      name: this.name,
      capacity: this.capacity,
      size: ring.size,
      head: ring.head,
      tail: ring.tail,
      published: this.published,
      rejected: this.rejected,
      dropped: this.dropped,
      expired: this.expired,
      deadLetterDropped: this.deadLetterDropped,
      subscribers,
      bytes: this.codec === undefined ? 0 : this.codec.retainedBytes(ring),
      bytesPublished: this.codec === undefined ? 0 : this.codec.bytesPublished,
      closed: this.closed,
      groups,
    };
    const storage = this.store?.stats?.();
    return storage === undefined ? stats : { ...stats, storage };
  }
}
